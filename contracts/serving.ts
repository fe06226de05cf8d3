/**
 * Serving settings: the serving mode (SageMaker endpoint or serverless Lambda), the endpoint's
 * instances and autoscaling, the shadow phase and the model-version canary of a rollout, the
 * latency budget and the share of requests captured for drift checks; their defaults and the
 * limits AWS sets. Given platform-wide and overridable per model. The autoscaling rule is checked by the configuration
 * schema and by the SageMakerEndpoint construct from `endpointAutoscalingProblems`.
 */
import * as z from 'zod';
import { ecrImageUriSchema, instanceTypeSchema, type SettingProblem } from './fields';

/** `BlueGreenUpdatePolicy.TrafficRoutingConfiguration.WaitIntervalInSeconds` upper bound. */
export const MAX_TRAFFIC_WAIT_INTERVAL_SECONDS = 3600;
/** Canary traffic share, in percent: SageMaker and CodeDeploy canaries above half are not canaries. */
export const CANARY_PERCENT_RANGE = { min: 1, max: 50 } as const;
/** The longest shadow window: a day of mirrored traffic is enough to judge a candidate; longer holds the pipeline run. */
export const MAX_SHADOW_SECONDS = 86_400;
/** Burstable families cannot be the target of SageMaker endpoint autoscaling. */
const BURSTABLE_INSTANCE_PATTERN = /^ml\.t[0-9]/;

export const SERVING_MODES = ['endpoint', 'serverless'] as const;

export const servingShape = {
  mode: z.enum(SERVING_MODES).describe('`serverless`: the ONNX Lambda; `endpoint`: a SageMaker real-time endpoint'),
  instanceType: instanceTypeSchema.describe('endpoint instance type; burstable `ml.t*` cannot autoscale'),
  minInstances: z.number().int().min(1).max(100).describe('endpoint instances at least (≤ maxInstances)'),
  maxInstances: z.number().int().min(1).max(100).describe('endpoint instances at most'),
  targetInvocationsPerInstance: z.number().int().min(1).describe('target tracking on SageMakerVariantInvocationsPerInstance (per minute)'),
  canaryPercent: z
    .number()
    .int()
    .min(CANARY_PERCENT_RANGE.min)
    .max(CANARY_PERCENT_RANGE.max)
    .describe('share of traffic (serverless) or capacity (endpoint) the candidate version gets first'),
  bakeTimeSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_TRAFFIC_WAIT_INTERVAL_SECONDS)
    .describe('how long the canary runs without an alarm before the rest of the traffic shifts (`WaitIntervalInSeconds`)'),
  latencyBudgetMs: z.number().positive().describe('p99 model latency above which the latency alarm fires and rolls the candidate back'),
  dataCapturePercent: z.number().int().min(0).max(100).describe('share of requests captured for the drift checks'),
  idleHours: z
    .number()
    .int()
    .min(1)
    .max(168)
    .describe(
      'endpoint mode: the idle-cost alarm fires (to the alert topic) when the endpoint served no invocation for this many hours, while its instances still bill; at most 7 days (CloudWatch evaluates at most 7 days of hourly periods)',
    ),
  captureColumns: z
    .array(z.string().min(1))
    .max(50)
    .describe(
      "columns besides the model's features a captured request keeps (identifiers, the sensitive attribute); by default none, so capture holds only what the model reads and what it answered",
    ),
  shadowPercent: z
    .number()
    .int()
    .min(0)
    .max(100)
    .describe(
      'share of requests mirrored to the candidate before its canary (serverless), or sampled to its shadow variant (endpoint); the caller never sees its answer. 0: no shadow phase',
    ),
  shadowSeconds: z
    .number()
    .int()
    .min(0)
    .max(MAX_SHADOW_SECONDS)
    .describe('how long the candidate runs in shadow before its gates decide (longer while fewer than minShadowRequests were mirrored)'),
  minShadowRequests: z.number().int().min(1).describe('mirrored requests the shadow gates need before they decide'),
  minShadowAgreement: z
    .number()
    .min(0)
    .max(1)
    .describe('share of mirrored rows on which the candidate must agree with production (same label; regression: within shadowTolerance)'),
  shadowTolerance: z
    .number()
    .min(0)
    .describe('regression: a candidate value agrees with production when |Δ| ≤ shadowTolerance × |production value|'),
  imageUri: ecrImageUriSchema.describe(
    "endpoint mode: an ECR image of your own serving container (docs/serving-container.md); unset: the platform's ONNX serving container, built from containers/onnx-serving at deploy time",
  ),
};

export const SERVING_DEFAULTS = {
  mode: 'serverless',
  instanceType: 'ml.c6i.large',
  minInstances: 2,
  maxInstances: 10,
  targetInvocationsPerInstance: 1000,
  canaryPercent: 10,
  bakeTimeSeconds: 600,
  latencyBudgetMs: 200,
  dataCapturePercent: 20,
  idleHours: 24,
  captureColumns: [] as readonly string[],
  shadowPercent: 0,
  shadowSeconds: 900,
  minShadowRequests: 100,
  minShadowAgreement: 0.9,
  shadowTolerance: 0.05,
} as const;

export const servingOverridesSchema = z.object(servingShape).partial().strict();
export const servingSettingsSchema = servingOverridesSchema.transform((serving) => ({ ...SERVING_DEFAULTS, ...serving }));

export type ServingConfig = z.output<typeof servingSettingsSchema>;

/** An endpoint's fleet: at least as many instances as the minimum, and no autoscaling of burstable instances. */
export function endpointAutoscalingProblems(
  serving: Pick<ServingConfig, 'mode' | 'instanceType' | 'minInstances' | 'maxInstances'>,
): SettingProblem[] {
  const problems: SettingProblem[] = [];
  if (serving.minInstances > serving.maxInstances) {
    problems.push({ path: ['minInstances'], message: `must not exceed maxInstances (${serving.minInstances} > ${serving.maxInstances})` });
  }
  if (serving.mode === 'endpoint' && BURSTABLE_INSTANCE_PATTERN.test(serving.instanceType) && serving.maxInstances > serving.minInstances) {
    problems.push({
      path: ['instanceType'],
      message: `burstable instances (${serving.instanceType}) cannot autoscale; use another family or set minInstances = maxInstances`,
    });
  }
  return problems;
}
