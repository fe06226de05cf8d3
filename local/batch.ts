/**
 * A model's batch inference pipeline offline: statemachines/batch-inference.asl.json with the
 * substitutions the BatchInference construct gives it (local ARNs), run by aws-local-stepfunctions
 * as it stands (its Distributed Map reads ItemsPath, so no ItemReader gap to bridge). Its Lambda
 * states are served by the real code: the batch-score function's BatchJob (the serving core, the
 * model's schema, the buckets from its environment) and the model's check-drift handler (which
 * records its verdict through the registry function, as deployed), each reaching S3 and DynamoDB
 * as its deployed role when the runtime enforces IAM. The runtime (local/runtime.ts) starts and
 * follows its executions as it does the training pipeline's.
 */
import { createHash } from 'node:crypto';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { BATCH_SCORE_MEMORY_MB, batchSubstitutions, readBatchDefinition } from '../contracts/batch-inference';
import { driftSettingsOf } from '../contracts/drift';
import type { ResolvedModelConfig } from '../contracts/platform-config';
import { modelSchemaFor } from '../contracts/serving-schema';
import { renderDefinition } from '../contracts/state-machines';
import { BatchJob } from '../lambdas/batch-score/batch-job';
import { createCheckDriftHandler } from '../lambdas/check-drift/handler';
import type { ObjectStore } from '../lambdas/shared/object-store';
import type { Registry } from '../lambdas/shared/registry/registry-service';
import type { RegistryStore } from '../lambdas/shared/registry/registry-store';
import { OnnxScorer } from '../lambdas/shared/serving/onnx-scorer';
import { fetchServedModel } from '../lambdas/shared/serving/served-version';
import { type Definition, liftTaskTimeouts } from './definitions';

/** What a model's batch pipeline needs from the runtime. */
export interface BatchPipelineResources {
  readonly model: ResolvedModelConfig;
  /** The buckets and table by their local names. */
  readonly buckets: { readonly datasets: string; readonly artifacts: string; readonly capture: string };
  /** A function's view of S3 and of the registry table (checked against its role when IAM is enforced). */
  readonly functionStore: (codeFolder: string, modelName: string) => ObjectStore;
  readonly functionRegistryStore: (codeFolder: string, modelName: string) => RegistryStore;
  /** The registry function: check-drift records its verdicts through it. */
  readonly registry: Registry;
  /** The local ARN of a function by name. */
  readonly functionArn: (name: string) => string;
  readonly logger: Logger;
}

/** A Lambda invoke Task's local handler: the state's Parameters in, `{ StatusCode, Payload }` out. */
type InvokeHandler = (input: { Payload?: unknown }) => Promise<unknown>;

/** The drift check's EMF documents have no CloudWatch offline: this stands in for Powertools Metrics and drops them. */
const discardedMetrics = {
  clearDefaultDimensions() {},
  addDimensions() {},
  addMetric() {},
  publishStoredMetrics() {},
} as unknown as Metrics;

export class LocalBatchPipeline {
  /** The substitutions the local state machine is rendered with (local names and ARNs). */
  readonly substitutions: Record<string, string>;
  /** The definition the emulator runs (every Task's timeout lifted to withStateTimeouts). */
  readonly definition: Definition;
  /** The TimeoutSeconds each Task state declares. */
  readonly timeouts: ReadonlyMap<string, number>;
  /** SHA-256 of the rendered definition (DescribeStateMachineForExecution's revision). */
  readonly revision: string;
  /** The batch-score function's job: one per container, so one ONNX session kept while the version stays. */
  private readonly job: BatchJob;
  private readonly checkDrift: (event: unknown) => Promise<unknown>;

  constructor(resources: BatchPipelineResources) {
    const { model, buckets } = resources;
    this.substitutions = batchSubstitutions({
      modelName: model.name,
      batchScoreFunctionArn: resources.functionArn(`batch-score-${model.name}`),
      checkDriftFunctionArn: resources.functionArn(`check-drift-${model.name}`),
      captureBucket: buckets.capture,
    });
    const lifted = liftTaskTimeouts(JSON.parse(renderDefinition(readBatchDefinition(), this.substitutions)) as Definition);
    this.definition = lifted.definition;
    this.timeouts = lifted.timeouts;
    this.revision = createHash('sha256').update(JSON.stringify(this.definition)).digest('hex');

    // As BatchInference configures the function: its environment's schema and buckets, its memory.
    const objects = resources.functionStore('batch-score', model.name);
    this.job = new BatchJob({
      schema: modelSchemaFor(model),
      registry: resources.functionRegistryStore('batch-score', model.name),
      objects,
      captureBucket: buckets.capture,
      datasetsBucket: buckets.datasets,
      artifactsBucket: buckets.artifacts,
      memoryMb: BATCH_SCORE_MEMORY_MB,
      loadScorer: async (version) => {
        const { modelBytes, trainingRanges } = await fetchServedModel(objects, version);
        return OnnxScorer.create(modelBytes, trainingRanges);
      },
    });
    // As DriftMonitor configures the model's check-drift function (DRIFT_SETTINGS, the buckets, the registry function).
    this.checkDrift = createCheckDriftHandler({
      context: {
        store: resources.functionStore('check-drift', model.name),
        registry: resources.functionRegistryStore('check-drift', model.name),
        artifactsBucket: buckets.artifacts,
        captureBucket: buckets.capture,
      },
      settings: driftSettingsOf(model),
      logger: resources.logger,
      createMetrics: () => discardedMetrics,
      recordVerdict: (request) => resources.registry.recordDriftVerdict(request),
      actor: `check-drift:${model.name}`,
    });
  }

  /** The Task states' local handlers, by state name, as Lambda invoke tasks answer. */
  handlers(): Record<string, InvokeHandler> {
    // A Lambda's answer is JSON: what the state machine sees is the result serialized and read back.
    const invoke = (fn: (payload: unknown) => Promise<unknown>) => async (input: { Payload?: unknown }) => ({
      StatusCode: 200,
      Payload: JSON.parse(JSON.stringify(await fn(input.Payload))),
    });
    const batchScore = invoke((payload) => this.job.run(payload));
    return { ListInputs: batchScore, ScoreObject: batchScore, Summarize: batchScore, CheckDrift: invoke(this.checkDrift) };
  }
}
