/**
 * The platform configuration: a zod schema for the `mlops` context key of cdk.json, its
 * defaults, the cross-field rules AWS enforces at deploy time (checked here so that
 * `cdk synth` fails instead of a half-created stack), and an error that names the field.
 */
import * as z from 'zod';

/** SageMaker `StoppingCondition.MaxRuntimeInSeconds` upper bound: 28 days. */
export const SAGEMAKER_MAX_RUNTIME_SECONDS = 28 * 24 * 60 * 60;
/** `BlueGreenUpdatePolicy.TrafficRoutingConfiguration.WaitIntervalInSeconds` upper bound. */
export const MAX_TRAFFIC_WAIT_INTERVAL_SECONDS = 3600;
/** Canary traffic share, in percent: SageMaker and CodeDeploy canaries above half are not canaries. */
export const CANARY_PERCENT_RANGE = { min: 1, max: 50 } as const;
/** Retention periods CloudWatch Logs accepts (`RetentionInDays`). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/**
 * SageMaker instance types: `ml.<family>.<size>`, e.g. ml.g5.xlarge, ml.p4d.24xlarge, ml.m5.large.
 * The family list changes every year, so only the shape is checked.
 */
const INSTANCE_TYPE_PATTERN = /^ml\.[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|xlarge|[1-9][0-9]*xlarge)$/;
/** Burstable families cannot be the target of SageMaker endpoint autoscaling. */
const BURSTABLE_INSTANCE_PATTERN = /^ml\.t[0-9]/;
/** Names that become part of S3 keys, DynamoDB keys and SageMaker job names. */
const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
/** EventBridge schedule expressions. */
const SCHEDULE_PATTERN = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/;

const resourceName = (maxLength: number) =>
  z.string().min(1).max(maxLength).regex(RESOURCE_NAME_PATTERN, 'must start with a lowercase letter and contain only a-z, 0-9 and -');

const instanceType = z.string().regex(INSTANCE_TYPE_PATTERN, 'must be a SageMaker instance type such as ml.g5.xlarge (ml.<family>.<size>)');

const fraction = z.number().min(0).max(1);

const ecrImageUri = z
  .string()
  .regex(
    /^[0-9]{12}\.dkr\.ecr\.([a-z0-9-]+|\{region\})\.amazonaws\.com(\.cn)?\/[^\s:@]+([:@][^\s]+)?$/,
    'must be an ECR image URI (<account>.dkr.ecr.<region or {region}>.amazonaws.com/<repository>[:tag])',
  );

export const columnTypes = ['number', 'integer', 'boolean', 'string', 'category', 'timestamp'] as const;

export const columnSchema = z
  .object({
    name: z.string().min(1).max(128),
    type: z.enum(columnTypes),
    nullable: z.boolean().default(false),
    min: z.number().optional(),
    max: z.number().optional(),
    allowedValues: z.array(z.string()).min(1).optional(),
    /** A JavaScript regular expression every value must match (whole value: anchor it with ^…$ to mean that). */
    regex: z.string().min(1).max(1024).optional(),
    /** No two rows may hold the same value (nulls excepted). */
    unique: z.boolean().default(false),
    /** A drifted critical feature marks the whole dataset as drifted. */
    critical: z.boolean().default(false),
  })
  .strict()
  .superRefine((column, ctx) => {
    if (column.regex !== undefined) {
      if (column.type !== 'category' && column.type !== 'string') {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `regex applies to category and string columns, not ${column.type}` });
      }
      const problem = regexProblem(column.regex);
      if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: `is not a valid regular expression (${problem})` });
    }
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must not exceed max (${column.max})` });
    }
    const numeric = column.type === 'number' || column.type === 'integer';
    if (!numeric && (column.min !== undefined || column.max !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min/max apply to number and integer columns, not ${column.type}` });
    }
    if (column.allowedValues && column.type !== 'category' && column.type !== 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedValues'],
        message: `allowedValues apply to category and string columns, not ${column.type}`,
      });
    }
  });

function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Whole-dataset rules checked by validate-data after every row has been read. */
export const datasetRulesSchema = z
  .object({
    /** Fewer data rows than this rejects the dataset. */
    minRows: z.number().int().min(0).default(1),
    /** More data rows than this rejects the dataset. */
    maxRows: z.number().int().min(1).optional(),
    /** Share of rows breaking any column rule (or ragged) above which the dataset is rejected. */
    maxBadRowFraction: fraction.default(0.01),
    /** The target column must be in the data; turn off for unlabelled data such as inference capture. */
    requireTarget: z.boolean().default(true),
  })
  .strict()
  .superRefine((rules, ctx) => {
    if (rules.maxRows !== undefined && rules.minRows > rules.maxRows) {
      ctx.addIssue({ code: 'custom', path: ['minRows'], input: rules.minRows, message: `must not exceed maxRows (${rules.maxRows})` });
    }
  });

export const problemTypes = ['binary-classification', 'multiclass-classification', 'regression'] as const;
const classificationMetrics = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const;
const regressionMetrics = ['mae', 'rmse', 'r2'] as const;
const metricNames = [...classificationMetrics, ...regressionMetrics] as const;

const boundSchema = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((bound) => bound.min !== undefined || bound.max !== undefined, 'needs min or max');

const thresholdsSchema = z
  .object({
    /** Evaluation gate, per metric: the challenger must be within these bounds. */
    metrics: z.partialRecord(z.enum(metricNames), boundSchema).default({}),
    /** Disparate impact (favourable-outcome rate ratio) allowed for the sensitive attribute. */
    disparateImpact: z
      .tuple([z.number().positive(), z.number().positive()])
      .default([0.8, 1.25])
      .refine(([low, high]) => low <= 1 && high >= 1, 'must be [low, high] with low <= 1 <= high'),
    /** A challenger may be worse than the production champion by at most this much per gated metric. */
    championMargin: z.number().min(0).max(1).default(0.01),
  })
  .strict();

/*
 * Training, serving and drift settings are given platform-wide and may be overridden per model.
 * The field schemas carry no defaults, so a model's partial override inherits the platform's
 * values rather than the built-in defaults; the defaults are applied once, platform-wide.
 */
const trainingShape = {
  imageUri: ecrImageUri,
  instanceType,
  instanceCount: z.number().int().min(1).max(100),
  volumeSizeGb: z.number().int().min(1).max(16384),
  useSpot: z.boolean(),
  maxRuntimeSeconds: z.number().int().min(60).max(SAGEMAKER_MAX_RUNTIME_SECONDS),
  maxWaitSeconds: z
    .number()
    .int()
    .min(60)
    .max(2 * SAGEMAKER_MAX_RUNTIME_SECONDS),
  checkpointing: z.boolean(),
};
export const TRAINING_DEFAULTS = {
  instanceType: 'ml.g5.xlarge',
  instanceCount: 1,
  volumeSizeGb: 50,
  useSpot: true,
  maxRuntimeSeconds: 4 * 3600,
  maxWaitSeconds: 8 * 3600,
  checkpointing: true,
} as const;

const servingShape = {
  /** `endpoint`: SageMaker real-time endpoint; `serverless`: onnxruntime-node Lambda. */
  mode: z.enum(['endpoint', 'serverless']),
  instanceType,
  minInstances: z.number().int().min(1).max(100),
  maxInstances: z.number().int().min(1).max(100),
  targetInvocationsPerInstance: z.number().int().min(1),
  canaryPercent: z.number().int().min(CANARY_PERCENT_RANGE.min).max(CANARY_PERCENT_RANGE.max),
  bakeTimeSeconds: z.number().int().min(0).max(MAX_TRAFFIC_WAIT_INTERVAL_SECONDS),
  latencyBudgetMs: z.number().positive(),
  dataCapturePercent: z.number().int().min(0).max(100),
  /** ECR image of the ONNX serving container; needed by `endpoint` mode. */
  imageUri: ecrImageUri,
  /** The model.tar.gz an endpoint is created with, before the first deployment of a registry version. */
  initialModelDataUrl: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+\.tar\.gz$/, 'must be the s3://bucket/key URI of a model.tar.gz'),
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
} as const;

/** Corrections of the per-feature p-values for testing many features at once. */
export const MULTIPLE_TESTING_CORRECTIONS = ['benjamini-hochberg', 'bonferroni', 'none'] as const;

/** Per-feature drift thresholds; a feature's own entry overrides the model's values field by field. */
const featureThresholdsSchema = z
  .object({ psiWarn: z.number().positive(), psiDrift: z.number().positive(), ksPValue: fraction, jsDistance: fraction })
  .partial()
  .strict();

const driftShape = {
  schedule: z.string().regex(SCHEDULE_PATTERN, 'must be an EventBridge schedule: rate(<n> <unit>) or cron(...)'),
  /** Each check compares the capture of the last windowHours (ending at the scheduled time) with the reference. */
  windowHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 14),
  minSampleSize: z.number().int().min(1),
  psiWarn: z.number().positive(),
  psiDrift: z.number().positive(),
  ksPValue: fraction,
  jsDistance: fraction,
  /** How the KS / chi-square (and PSI / JS noise) p-values are corrected across a model's features. */
  multipleTesting: z.enum(MULTIPLE_TESTING_CORRECTIONS),
  /** Thresholds for single features, by column name. */
  featureThresholds: z.record(z.string().min(1), featureThresholdsSchema),
  /** Share of features that must drift for the dataset to count as drifted. */
  driftedFeatureShare: fraction,
  /** One drift episode starts at most one retraining within this window. */
  retrainCooldownHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30),
};
export const DRIFT_DEFAULTS: {
  readonly schedule: string;
  readonly windowHours: number;
  readonly minSampleSize: number;
  readonly psiWarn: number;
  readonly psiDrift: number;
  readonly ksPValue: number;
  readonly jsDistance: number;
  readonly multipleTesting: (typeof MULTIPLE_TESTING_CORRECTIONS)[number];
  readonly featureThresholds: Record<string, z.output<typeof featureThresholdsSchema>>;
  readonly driftedFeatureShare: number;
  readonly retrainCooldownHours: number;
} = {
  schedule: 'rate(1 hour)',
  windowHours: 24,
  minSampleSize: 1000,
  psiWarn: 0.1,
  psiDrift: 0.25,
  ksPValue: 0.05,
  jsDistance: 0.1,
  multipleTesting: 'benjamini-hochberg',
  featureThresholds: {},
  driftedFeatureShare: 0.5,
  retrainCooldownHours: 24,
};

/** The platform API (API Gateway REST API). */
export const API_DEFAULTS = {
  stageName: 'v1',
  throttleRatePerSecond: 50,
  throttleBurst: 100,
  waf: false,
  wafRateLimitPer5Minutes: 2000,
} as const;

const apiSchema = z
  .object({
    /** Stage name, the first path segment of every URL. */
    stageName: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,64}$/, 'must be 1-64 letters, digits or _')
      .default(API_DEFAULTS.stageName),
    /** Steady-state requests per second for the whole stage (and the usage plan). */
    throttleRatePerSecond: z.number().positive().max(10_000).default(API_DEFAULTS.throttleRatePerSecond),
    /** Burst of requests above the steady rate. */
    throttleBurst: z.number().int().min(1).max(5000).default(API_DEFAULTS.throttleBurst),
    /** Requests per day the usage plan allows; none: no quota. */
    quotaPerDay: z.number().int().min(1).optional(),
    /** A Cognito user pool whose tokens authorize requests instead of IAM SigV4. */
    cognitoUserPoolArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+$/, 'must be a Cognito user pool ARN')
      .optional(),
    /** Attach a regional WAF web ACL (AWS managed common and known-bad-input rules, a per-IP rate limit). */
    waf: z.boolean().default(API_DEFAULTS.waf),
    /** Requests per 5 minutes from one IP address before WAF blocks it (WAF's minimum is 10). */
    wafRateLimitPer5Minutes: z.number().int().min(10).max(2_000_000_000).default(API_DEFAULTS.wafRateLimitPer5Minutes),
  })
  .strict()
  .superRefine((api, ctx) => {
    if (api.throttleBurst < api.throttleRatePerSecond) {
      ctx.addIssue({
        code: 'custom',
        path: ['throttleBurst'],
        message: `must be at least throttleRatePerSecond (${api.throttleBurst} < ${api.throttleRatePerSecond})`,
      });
    }
  });

const trainingOverrides = z.object(trainingShape).partial().strict();
const servingOverrides = z.object(servingShape).partial().strict();
const driftOverrides = z.object(driftShape).partial().strict();

const trainingSchema = trainingOverrides
  .extend({ imageUri: trainingShape.imageUri })
  .transform((training) => ({ ...TRAINING_DEFAULTS, ...training }));
const servingSchema = servingOverrides.transform((serving) => ({ ...SERVING_DEFAULTS, ...serving }));
const driftSchema = driftOverrides.transform((drift) => ({ ...DRIFT_DEFAULTS, ...drift }));

const modelSchema = z
  .object({
    name: resourceName(48),
    problemType: z.enum(problemTypes),
    /** Every column of the training dataset, target and sensitive attribute included. */
    columns: z.array(columnSchema).min(1),
    target: z.string().min(1),
    /** Model inputs; defaults to every column except the target and the sensitive attribute. */
    features: z.array(z.string().min(1)).min(1).optional(),
    sensitiveAttribute: z.string().min(1).optional(),
    /** Row-count and bad-row rules of the training dataset. */
    dataset: datasetRulesSchema.prefault({}),
    thresholds: thresholdsSchema.prefault({}),
    training: trainingOverrides.optional(),
    serving: servingOverrides.optional(),
    drift: driftOverrides.optional(),
  })
  .strict()
  .superRefine((model, ctx) => {
    const names = model.columns.map((column) => column.name);
    const seen = new Set<string>();
    model.columns.forEach((column, index) => {
      if (seen.has(column.name)) {
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'name'], message: `duplicate column "${column.name}"` });
      }
      seen.add(column.name);
    });
    if (!names.includes(model.target)) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `must name one of the columns (${names.join(', ')}), got "${model.target}"`,
      });
    }
    if (model.sensitiveAttribute !== undefined) {
      if (!names.includes(model.sensitiveAttribute)) {
        ctx.addIssue({
          code: 'custom',
          path: ['sensitiveAttribute'],
          message: `must name one of the columns (${names.join(', ')}), got "${model.sensitiveAttribute}"`,
        });
      } else if (model.sensitiveAttribute === model.target) {
        ctx.addIssue({ code: 'custom', path: ['sensitiveAttribute'], message: 'must differ from the target' });
      }
    }
    model.features?.forEach((feature, index) => {
      if (!names.includes(feature)) {
        ctx.addIssue({ code: 'custom', path: ['features', index], message: `must name one of the columns, got "${feature}"` });
      } else if (feature === model.target) {
        ctx.addIssue({ code: 'custom', path: ['features', index], message: 'the target cannot be a model input' });
      }
    });
    const allowed: readonly string[] = model.problemType === 'regression' ? regressionMetrics : classificationMetrics;
    for (const metric of Object.keys(model.thresholds.metrics)) {
      if (!allowed.includes(metric)) {
        ctx.addIssue({
          code: 'custom',
          path: ['thresholds', 'metrics', metric],
          message: `is not a ${model.problemType} metric (use ${allowed.join(', ')})`,
        });
      }
    }
  });

/**
 * What validate-data needs of a model (its `model` event field): name, columns, target and
 * dataset rules. Unknown keys are dropped, so a whole model configuration is accepted too.
 */
export const datasetSchemaSchema = z
  .object({
    name: resourceName(48),
    columns: z.array(columnSchema).min(1),
    target: z.string().min(1),
    dataset: datasetRulesSchema.prefault({}),
  })
  .superRefine((schema, ctx) => {
    const names = schema.columns.map((column) => column.name);
    names.forEach((name, index) => {
      if (names.indexOf(name) !== index)
        ctx.addIssue({ code: 'custom', path: ['columns', index, 'name'], message: `duplicate column "${name}"` });
    });
    if (!names.includes(schema.target)) {
      ctx.addIssue({
        code: 'custom',
        path: ['target'],
        message: `must name one of the columns (${names.join(', ')}), got "${schema.target}"`,
      });
    }
  });

/**
 * A model's configuration entry as the training pipeline passes it to evaluate-model (name,
 * problem type, columns, target, features, sensitive attribute, thresholds): the same rules as
 * in the platform configuration, with unknown keys dropped rather than refused.
 */
export const modelEntrySchema = modelSchema.strip();

const tagValue = z.string().min(1).max(256);

export const platformConfigSchema = z
  .object({
    projectName: resourceName(24),
    environment: z.enum(['dev', 'staging', 'prod']),
    owner: tagValue,
    /** Extra tags for every resource; Project, Environment and Owner are always set. */
    tags: z.record(z.string().min(1).max(128), tagValue).default({}),
    alertEmail: z.email().optional(),
    /** Non-current object versions and inference capture data are kept this many days. */
    retentionDays: z.number().int().min(1).max(3650).default(90),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30),
    monthlyBudgetUsd: z.number().positive().default(500),
    training: trainingSchema,
    serving: servingSchema.prefault({}),
    drift: driftSchema.prefault({}),
    api: apiSchema.prefault({}),
    models: z.array(modelSchema).min(1),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.models.forEach((model, index) => {
      if (seen.has(model.name)) {
        ctx.addIssue({ code: 'custom', path: ['models', index, 'name'], message: `duplicate model name "${model.name}"` });
      }
      seen.add(model.name);
      // A model is checked only where it overrides; otherwise the platform-wide check covers it.
      if (model.training) checkTraining({ ...config.training, ...model.training }, ['models', index, 'training'], ctx);
      if (model.serving) checkServing({ ...config.serving, ...model.serving }, ['models', index, 'serving'], ctx);
      checkEndpointServing({ ...config.serving, ...model.serving }, ['models', index, 'serving'], ctx);
      if (model.drift) checkDrift({ ...config.drift, ...model.drift }, ['models', index, 'drift'], ctx);
      checkFeatureThresholds(model, { ...config.drift, ...model.drift }.featureThresholds, ['models', index, 'drift'], ctx);
    });
    checkTraining(config.training, ['training'], ctx);
    checkServing(config.serving, ['serving'], ctx);
    checkDrift(config.drift, ['drift'], ctx);
  });

type IssueSink = z.core.$RefinementCtx;

function checkTraining(training: TrainingConfig, path: PropertyKey[], ctx: IssueSink): void {
  if (!training.useSpot) return;
  if (training.maxWaitSeconds < training.maxRuntimeSeconds) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'maxWaitSeconds'],
      message: `managed spot training needs maxWaitSeconds >= maxRuntimeSeconds (${training.maxWaitSeconds} < ${training.maxRuntimeSeconds})`,
    });
  }
  if (!training.checkpointing) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'checkpointing'],
      message: 'managed spot training needs checkpointing, or an interruption restarts training from scratch',
    });
  }
}

function checkServing(serving: ServingConfig, path: PropertyKey[], ctx: IssueSink): void {
  if (serving.minInstances > serving.maxInstances) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'minInstances'],
      message: `must not exceed maxInstances (${serving.minInstances} > ${serving.maxInstances})`,
    });
  }
  if (serving.mode === 'endpoint' && BURSTABLE_INSTANCE_PATTERN.test(serving.instanceType) && serving.maxInstances > serving.minInstances) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'instanceType'],
      message: `burstable instances (${serving.instanceType}) cannot autoscale; use another family or set minInstances = maxInstances`,
    });
  }
}

/** Per model only: the platform-wide section may leave the image and artifact to each model. */
function checkEndpointServing(serving: ServingConfig, path: PropertyKey[], ctx: IssueSink): void {
  if (serving.mode !== 'endpoint') return;
  for (const field of ['imageUri', 'initialModelDataUrl'] as const) {
    if (serving[field] === undefined) {
      ctx.addIssue({ code: 'custom', path: [...path, field], message: 'is required when serving.mode is "endpoint"' });
    }
  }
}

function checkDrift(drift: DriftConfig, path: PropertyKey[], ctx: IssueSink): void {
  if (drift.psiWarn > drift.psiDrift) {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'psiWarn'],
      message: `must not exceed psiDrift (${drift.psiWarn} > ${drift.psiDrift})`,
    });
  }
}

/** Feature thresholds must name the model's columns and keep warn ≤ drift; a platform-wide entry applies to every model. */
function checkFeatureThresholds(
  model: { columns: readonly { name: string }[] },
  thresholds: DriftConfig['featureThresholds'],
  path: PropertyKey[],
  ctx: IssueSink,
): void {
  const names = model.columns.map((column) => column.name);
  for (const [feature, values] of Object.entries(thresholds)) {
    if (!names.includes(feature)) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'featureThresholds', feature],
        message: `must name one of the model's columns (${names.join(', ')})`,
      });
    }
    if (values.psiWarn !== undefined && values.psiDrift !== undefined && values.psiWarn > values.psiDrift) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'featureThresholds', feature, 'psiWarn'],
        message: `must not exceed psiDrift (${values.psiWarn} > ${values.psiDrift})`,
      });
    }
  }
}

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type PlatformConfig = z.output<typeof platformConfigSchema>;
export type ModelConfig = PlatformConfig['models'][number];
export type ColumnConfig = z.output<typeof columnSchema>;
export type DatasetRulesConfig = z.output<typeof datasetRulesSchema>;
export type DatasetSchema = z.output<typeof datasetSchemaSchema>;
export type TrainingConfig = z.output<typeof trainingSchema>;
export type ServingConfig = z.output<typeof servingSchema>;
export type DriftConfig = z.output<typeof driftSchema>;
export type ApiConfig = z.output<typeof apiSchema>;

/** A model with the platform-wide training, serving and drift settings merged under its own. */
export interface ResolvedModelConfig extends Omit<ModelConfig, 'training' | 'serving' | 'drift' | 'features'> {
  readonly features: string[];
  readonly training: TrainingConfig;
  readonly serving: ServingConfig;
  readonly drift: DriftConfig;
}

export function resolveModel(config: PlatformConfig, model: ModelConfig): ResolvedModelConfig {
  const features =
    model.features ??
    model.columns.map((column) => column.name).filter((name) => name !== model.target && name !== model.sensitiveAttribute);
  return {
    ...model,
    features,
    training: { ...config.training, ...model.training },
    serving: { ...config.serving, ...model.serving },
    drift: { ...config.drift, ...model.drift },
  };
}

/**
 * What the pipeline's functions need to know of a model (schema, target, features, thresholds):
 * the state machine passes it in their events, so no function needs the whole configuration.
 */
export interface ModelDocument {
  readonly name: string;
  readonly problemType: ResolvedModelConfig['problemType'];
  readonly columns: ResolvedModelConfig['columns'];
  readonly target: string;
  readonly features: readonly string[];
  readonly sensitiveAttribute?: string;
  readonly dataset: ResolvedModelConfig['dataset'];
  readonly thresholds: ResolvedModelConfig['thresholds'];
}

export function modelDocument(model: ResolvedModelConfig): ModelDocument {
  return {
    name: model.name,
    problemType: model.problemType,
    columns: model.columns,
    target: model.target,
    features: model.features,
    ...(model.sensitiveAttribute === undefined ? {} : { sensitiveAttribute: model.sensitiveAttribute }),
    dataset: model.dataset,
    thresholds: model.thresholds,
  };
}

/** An invalid configuration; `issues` holds one line per problem, each naming the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly issues: string[]) {
    super(`Invalid cdk-mlops configuration (cdk.json context "mlops"):\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
  }
}

/** Parses the raw context value; throws ConfigError naming every invalid field. */
export function parseConfig(raw: unknown): PlatformConfig {
  if (raw === undefined || raw === null) {
    throw new ConfigError(['mlops: missing; add an "mlops" object to the "context" of cdk.json']);
  }
  const value = typeof raw === 'string' ? parseJsonContext(raw) : raw;
  const result = platformConfigSchema.safeParse(value, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.map(formatIssue));
}

/** `cdk synth -c mlops='{...}'` passes context values as strings. */
function parseJsonContext(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ConfigError([`mlops: not valid JSON (${(error as Error).message})`]);
  }
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = ['mlops', ...issue.path].reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
  // Echo scalar inputs only: an object's JSON would bury the message.
  const scalar = 'input' in issue && ['string', 'number', 'boolean'].includes(typeof issue.input);
  const got = scalar && issue.code !== 'invalid_type' && !issue.message.includes('got ') ? ` (got ${JSON.stringify(issue.input)})` : '';
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return `${path}: ${message}${got}`;
}
