/**
 * The shadow phase of an endpoint rollout, before its blue/green canary. `begin` puts the
 * candidate beside production as the endpoint's shadow variant: an endpoint configuration
 * `<endpoint>-v<n>-s<12 hex>` with the production variant (production's model, unchanged) in
 * `ProductionVariants` and the candidate in `ShadowProductionVariants`, weighted so SageMaker
 * replicates shadowPercent of requests to it, with data capture of every request on both
 * variants; then UpdateEndpoint. Callers only ever get production's answers. Each `poll` waits for
 * the shadow configuration to be in service and for the window; then judges the shadow variant
 * on its CloudWatch metrics (Invocations, Invocation5XXErrors, ModelLatency p99) and on its
 * agreement with production over the captured records, with the serverless shadow's gates
 * (lambdas/shared/shadow-gates.ts). A failed gate rejects the candidate and puts the endpoint
 * back on a production-only configuration (`<endpoint>-v<production>-r<12 hex>`); a pass moves
 * the registry phase to canary and starts the canary. No AWS imports: SageMaker, CloudWatch and
 * S3 come in as interfaces.
 */
import { createHash } from 'node:crypto';
import type { EndpointTarget } from '../../contracts/endpoint-deployment';
import { shadowVariantName } from '../../contracts/endpoint-deployment';
import { createEndpointConfigProblems, shadowVariantWeight, validationMessage } from '../../contracts/sagemaker-rules';
import { ValidationError } from '../shared/errors';
import { judgeShadow, SHADOW_TRAFFIC_WAIT_WINDOWS, type ShadowWindow } from '../shared/shadow-gates';
import {
  type CreateEndpointConfigInput,
  captureConfig,
  createVersionModel,
  deploymentResourceName,
  type EndpointApi,
  type EndpointDescription,
} from './endpoint-deployment';
import { type CaptureAgreement, CaptureJoin } from './shadow-capture';

/** The shadow variant's operational figures over a window (GetMetricData on AWS/SageMaker). */
export interface VariantMetricsReader {
  read(span: {
    endpointName: string;
    variantName: string;
    start: Date;
    end: Date;
  }): Promise<Omit<ShadowWindow, 'comparedRows' | 'agreeingRows'>>;
}

/** A variant's captured records over a window, line by line (the capture bucket on AWS). */
export interface CaptureSource {
  lines(span: { destinationS3Uri: string; endpointName: string; variantName: string; start: Date; end: Date }): AsyncIterable<string>;
}

export interface EndpointShadowReaders {
  readonly metrics: VariantMetricsReader;
  readonly captures: CaptureSource;
}

export type ShadowSettings = NonNullable<EndpointTarget['shadow']>;

/** What a rollout in shadow carries between polls. */
export interface ShadowState {
  /** The configuration with production and the candidate's shadow variant. */
  readonly configName: string;
  readonly productionModelName: string;
  readonly productionVersion: number;
  /** Whether the endpoint was seen updating towards the shadow configuration. */
  readonly updateSeen: boolean;
  /** When the endpoint was first seen in service with the shadow variant (the window starts then). */
  readonly liveSince?: string;
}

/** A resource id from the run and a letter naming its role (b: canary, s: shadow, r: restored production). */
export function runResourceId(runId: string, letter: 'b' | 's' | 'r'): string {
  return `${letter}${createHash('sha256').update(runId).digest('hex').slice(0, 12)}`;
}

export function shadowConfigName(target: EndpointTarget, version: number, runId: string): string {
  return deploymentResourceName(target.endpointName, version, runResourceId(runId, 's'));
}

/** The production variant of the configuration the endpoint serves, if it serves a version the deploy function rolled out. */
export async function productionVariantOf(
  endpoints: EndpointApi,
  target: EndpointTarget,
  description: EndpointDescription,
): Promise<{ modelName: string } | undefined> {
  const configName = description.EndpointConfigName;
  // The stack's bootstrap configuration (a CloudFormation name) serves no version: nothing to shadow.
  if (!configName?.startsWith(`${target.endpointName}-v`)) return undefined;
  const config = await endpoints.describeEndpointConfig(configName);
  const variant =
    config.ProductionVariants?.find((candidate) => candidate.VariantName === target.variantName) ?? config.ProductionVariants?.[0];
  return variant?.ModelName ? { modelName: variant.ModelName } : undefined;
}

/** The shadow configuration's request: production unchanged, the candidate sampled, every request captured on both. */
export function shadowEndpointConfig(
  target: EndpointTarget,
  settings: ShadowSettings,
  names: { configName: string; productionModelName: string; candidateModelName: string },
): CreateEndpointConfigInput {
  const variant = { InstanceType: target.instanceType, InitialInstanceCount: target.initialInstanceCount };
  return {
    EndpointConfigName: names.configName,
    KmsKeyId: target.kmsKeyId,
    ProductionVariants: [{ VariantName: target.variantName, ModelName: names.productionModelName, ...variant, InitialVariantWeight: 1 }],
    ShadowProductionVariants: [
      {
        VariantName: shadowVariantName(target.variantName),
        ModelName: names.candidateModelName,
        ...variant,
        InitialVariantWeight: shadowVariantWeight(settings.percent),
      },
    ],
    // Every request captured: the agreement gate joins the two variants' records of the same request.
    DataCaptureConfig: {
      EnableCapture: true,
      InitialSamplingPercentage: 100,
      DestinationS3Uri: settings.captureS3Uri,
      KmsKeyId: target.kmsKeyId,
      CaptureOptions: [{ CaptureMode: 'Input' }, { CaptureMode: 'Output' }],
      CaptureContentTypeHeader: { JsonContentTypes: ['application/json'] },
    },
  };
}

/** Creates a configuration after checking it against SageMaker's rules (the same refusal offline and on AWS). */
export async function createCheckedEndpointConfig(endpoints: EndpointApi, input: CreateEndpointConfigInput): Promise<void> {
  const problems = createEndpointConfigProblems(input);
  if (problems.length > 0) throw new ValidationError(validationMessage(problems));
  await endpoints.createEndpointConfig(input);
}

/** Creates the candidate's model and the shadow configuration, and moves the endpoint onto it (all at once: production is unchanged). */
export async function startShadow(
  endpoints: EndpointApi,
  target: EndpointTarget,
  settings: ShadowSettings,
  candidate: { version: number; artifactUri: string; modelName: string },
  state: Pick<ShadowState, 'configName' | 'productionModelName'>,
): Promise<void> {
  await createVersionModel(endpoints, target, candidate, candidate.modelName);
  await createCheckedEndpointConfig(
    endpoints,
    shadowEndpointConfig(target, settings, {
      configName: state.configName,
      productionModelName: state.productionModelName,
      candidateModelName: candidate.modelName,
    }),
  );
  await endpoints.updateEndpoint({ EndpointName: target.endpointName, EndpointConfigName: state.configName });
}

/**
 * Takes the shadow variant off: a production-only configuration with the endpoint's own capture,
 * applied when the endpoint is in service on the shadow configuration (a repeated request finds it
 * already moving or moved, and does nothing). Returns whether it asked SageMaker to move.
 */
export async function restoreProduction(
  endpoints: EndpointApi,
  target: EndpointTarget,
  state: Pick<ShadowState, 'configName' | 'productionModelName' | 'productionVersion'>,
  runId: string,
): Promise<boolean> {
  const description = await endpoints.describeEndpoint(target.endpointName);
  if (description.EndpointStatus !== 'InService' || description.EndpointConfigName !== state.configName) return false;
  const configName = deploymentResourceName(target.endpointName, state.productionVersion, runResourceId(runId, 'r'));
  await createCheckedEndpointConfig(endpoints, {
    EndpointConfigName: configName,
    KmsKeyId: target.kmsKeyId,
    ProductionVariants: [
      {
        VariantName: target.variantName,
        ModelName: state.productionModelName,
        InstanceType: target.instanceType,
        InitialInstanceCount: target.initialInstanceCount,
        InitialVariantWeight: 1,
      },
    ],
    ...captureConfig(target),
  });
  await endpoints.updateEndpoint({ EndpointName: target.endpointName, EndpointConfigName: configName });
  return true;
}

/** Where the shadow window stands after one look at its figures. */
export type ShadowVerdict =
  | { readonly kind: 'wait'; readonly reason: string | null }
  | { readonly kind: 'no-traffic'; readonly reason: string }
  | { readonly kind: 'rejected'; readonly reason: string }
  | { readonly kind: 'passed'; readonly reason: string };

/**
 * Judges the running shadow at `now`: nothing before the window has passed; then the shadow
 * variant's metrics (and, once it has its minimum requests, the captured agreement) through the gates.
 */
export async function judgeEndpointShadow(
  readers: EndpointShadowReaders,
  target: EndpointTarget,
  settings: ShadowSettings,
  liveSince: Date,
  now: Date,
): Promise<ShadowVerdict> {
  const elapsedSeconds = (now.getTime() - liveSince.getTime()) / 1000;
  if (elapsedSeconds < settings.seconds) return { kind: 'wait', reason: null };
  const variantName = shadowVariantName(target.variantName);
  const figures = await readers.metrics.read({ endpointName: target.endpointName, variantName, start: liveSince, end: now });
  const gates = {
    minRequests: settings.minRequests,
    minAgreement: settings.minAgreement,
    latencyBudgetMs: settings.latencyBudgetMs,
  };
  const counted = judgeShadow(figures, gates);
  if (!counted.decided) {
    if (elapsedSeconds < SHADOW_TRAFFIC_WAIT_WINDOWS * settings.seconds) {
      return { kind: 'wait', reason: `shadow waits for traffic: ${counted.reason}` };
    }
    return {
      kind: 'no-traffic',
      reason: `shadow ended after ${Math.floor(elapsedSeconds)} s without enough traffic: ${counted.reason}`,
    };
  }
  const agreement = await capturedAgreement(readers.captures, target, settings, liveSince, now);
  const judgement = judgeShadow({ ...figures, comparedRows: agreement.comparedRows, agreeingRows: agreement.agreeingRows }, gates);
  if (!judgement.decided) throw new Error('the shadow gates became undecided with the same request count');
  const capture = `${agreement.joinedRequests} captured requests joined, ${agreement.unmatchedShadowRecords} shadow records without production's${
    agreement.malformedLines > 0 ? `, ${agreement.malformedLines} unreadable (${agreement.firstProblem})` : ''
  }`;
  if (!judgement.passed) {
    return {
      kind: 'rejected',
      reason: `shadow rejected before any caller saw it: ${judgement.failures.join('; ')} (${judgement.summary}; ${capture})`,
    };
  }
  return { kind: 'passed', reason: `shadow passed: ${judgement.summary} (${capture})` };
}

/** The two variants' captured records over the window, joined and compared. */
export async function capturedAgreement(
  captures: CaptureSource,
  target: EndpointTarget,
  settings: ShadowSettings,
  start: Date,
  end: Date,
): Promise<CaptureAgreement> {
  const join = new CaptureJoin(target.modelSchema.problemType, settings.tolerance, { start: start.getTime(), end: end.getTime() });
  const span = { destinationS3Uri: settings.captureS3Uri, endpointName: target.endpointName, start, end };
  for await (const line of captures.lines({ ...span, variantName: target.variantName })) join.addProductionLine(line);
  for await (const line of captures.lines({ ...span, variantName: shadowVariantName(target.variantName) })) join.addShadowLine(line);
  return join.result();
}
