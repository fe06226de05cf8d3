/**
 * The platform configuration: the `mlops` object of cdk.json's context. It composes the
 * contracts (models, training, serving, drift) with what is platform-wide (project, tags,
 * retention, budget, the API), applies the defaults, checks the cross-field rules AWS enforces
 * at deploy time (so `cdk synth` fails instead of a half-created stack), and reports every
 * problem with the field's path. Read by the CDK app and by the offline runtime.
 */
import * as z from 'zod';
import { type DriftConfig, driftOverridesSchema, driftSettingsSchema, driftThresholdProblems, featureThresholdProblems } from './drift';
import { INSTANCE_TYPE_PATTERN, resourceName, type SettingProblem } from './fields';
import { MAX_PROJECT_NAME_LENGTH } from './limits';
import { checkModelContract, defaultFeatures, modelContractShape } from './model';
import { instanceHourUsd, missingPriceMessage, pricingSchema } from './pricing';
import { endpointAutoscalingProblems, type ServingConfig, servingOverridesSchema, servingSettingsSchema } from './serving';
import { type TrainingConfig, trainingOverridesSchema, trainingSettingsProblems, trainingSettingsSchema } from './training';

/** Retention periods CloudWatch Logs accepts (`RetentionInDays`). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The platform API (API Gateway REST API). */
export const API_DEFAULTS = {
  stageName: 'v1',
  throttleRatePerSecond: 50,
  throttleBurst: 100,
  waf: false,
  wafRateLimitPer5Minutes: 2000,
  cloudWatchRole: false,
} as const;

const apiSchema = z
  .object({
    stageName: z
      .string()
      .regex(/^[A-Za-z0-9_]{1,64}$/, 'must be 1-64 letters, digits or _')
      .default(API_DEFAULTS.stageName)
      .describe('the stage name, the first path segment of every URL'),
    throttleRatePerSecond: z
      .number()
      .positive()
      .max(10_000)
      .default(API_DEFAULTS.throttleRatePerSecond)
      .describe('steady-state requests per second for the whole stage (and the usage plan)'),
    throttleBurst: z
      .number()
      .int()
      .min(1)
      .max(5000)
      .default(API_DEFAULTS.throttleBurst)
      .describe(
        "requests API Gateway takes at once before it throttles (its token bucket; may be below the rate, as AWS's own account limits are)",
      ),
    quotaPerDay: z.number().int().min(1).optional().describe('requests per day the usage plan allows; none: no quota'),
    cognitoUserPoolArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:cognito-idp:[a-z0-9-]+:\d{12}:userpool\/[\w-]+_[0-9A-Za-z]+$/, 'must be a Cognito user pool ARN')
      .optional()
      .describe('a Cognito user pool whose tokens authorize requests instead of IAM SigV4'),
    waf: z
      .boolean()
      .default(API_DEFAULTS.waf)
      .describe('attach a regional WAF web ACL (AWS managed common and known-bad-input rules, a per-IP rate limit)'),
    wafRateLimitPer5Minutes: z
      .number()
      .int()
      .min(10)
      .max(2_000_000_000)
      .default(API_DEFAULTS.wafRateLimitPer5Minutes)
      .describe('requests per 5 minutes from one IP address before WAF blocks it'),
    cloudWatchRole: z
      .boolean()
      .default(API_DEFAULTS.cloudWatchRole)
      .describe(
        "create API Gateway's account-wide CloudWatch Logs role and set it in the region's account settings (it replaces the role anything else in the account logs with, and is kept when the stack goes); off: the account must already have one (docs/deploy.md)",
      ),
  })
  .strict();

/** A model's configuration entry: the model contract plus its overrides of the platform-wide settings. */
/** Whether a version waits for a person's approval before it deploys (see the model entry's `approval`). */
export const APPROVAL_POLICIES = ['required', 'optional', 'off'] as const;
export type ApprovalPolicy = (typeof APPROVAL_POLICIES)[number];
const approvalPolicySchema = z.enum(APPROVAL_POLICIES);

const modelEntrySchema = z
  .object({
    ...modelContractShape,
    training: trainingOverridesSchema.optional().describe("this model's overrides of the platform's training settings"),
    serving: servingOverridesSchema.optional().describe("this model's overrides of the platform's serving settings"),
    drift: driftOverridesSchema.optional().describe("this model's overrides of the platform's drift settings"),
    card: z
      .object({
        intendedUse: z.string().min(1).max(2000).optional().describe('what the model is for and who uses its predictions'),
        limitations: z.string().min(1).max(2000).optional().describe('known limits: populations, ranges or uses it is not fit for'),
        owner: z.string().min(1).max(256).optional().describe("who answers for the model (default: the platform's `owner`)"),
      })
      .strict()
      .optional()
      .describe("what this model's cards state beyond the evidence (docs/model-cards.md)"),
    approval: approvalPolicySchema
      .optional()
      .describe(
        'whether a person approves a version before it deploys: `required` (every run waits; a run cannot lower it), `optional` (a run may ask with requireApproval), `off` (no run waits unless it asks); default `required` in the prod environment, else `optional`',
      ),
  })
  .strict()
  .superRefine(checkModelContract);

const tagValue = z.string().min(1).max(256);

export const platformConfigSchema = z
  .object({
    projectName: resourceName(MAX_PROJECT_NAME_LENGTH).describe('names the stack `<projectName>-<environment>` and prefixes its resources'),
    environment: z.enum(['dev', 'staging', 'prod']).describe('the deployment stage, part of the stack name'),
    owner: tagValue.describe('tag `Owner` on every resource'),
    namePrefix: resourceName(MAX_PROJECT_NAME_LENGTH + 1 + 'staging'.length)
      .optional()
      .describe(
        "prefix of the platform's physical names (dashboard, alarms, budget, API, training and tuning jobs); default `<projectName>-<environment>`",
      ),
    tags: z
      .record(z.string().min(1).max(128), tagValue)
      .default({})
      .describe('extra tags for every resource; `Project`, `Environment` and `Owner` are always set'),
    alertEmail: z.email().optional().describe("an email address subscribed to the platform's alert topic"),
    retentionDays: z
      .number()
      .int()
      .min(1)
      .max(3650)
      .default(90)
      .describe('days non-current object versions, inference capture, quarantined rows, run splits and access logs are kept'),
    logRetentionDays: z
      .number()
      .int()
      .refine((days) => (LOG_RETENTION_DAYS as readonly number[]).includes(days), {
        message: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTION_DAYS.join(', ')}`,
      })
      .default(30)
      .describe(`days function and pipeline logs are kept: one of ${LOG_RETENTION_DAYS.join(', ')}`),
    monthlyBudgetUsd: z
      .number()
      .positive()
      .default(500)
      .describe('the AWS Budgets monthly limit in US dollars; the alert topic hears as spending nears it'),
    training: trainingSettingsSchema.describe('SageMaker training jobs, platform-wide (models may override)'),
    serving: servingSettingsSchema.prefault({}).describe('serving, platform-wide (models may override)'),
    drift: driftSettingsSchema.prefault({}).describe('drift monitoring, platform-wide (models may override)'),
    api: apiSchema.prefault({}).describe('the platform API'),
    pricing: pricingSchema
      .prefault({})
      .describe(
        "SageMaker instance prices for the idle-cost alarm and the training-spend metrics (docs/configuration.md, 'Instance prices')",
      ),
    models: z.array(modelEntrySchema).min(1).describe('the models the platform trains and serves; names unique'),
  })
  .strict()
  .superRefine((config, ctx) => {
    const report = (problems: readonly SettingProblem[], path: PropertyKey[]) => {
      for (const problem of problems) ctx.addIssue({ code: 'custom', path: [...path, ...problem.path], message: problem.message });
    };
    const seen = new Set<string>();
    config.models.forEach((model, index) => {
      if (seen.has(model.name)) {
        ctx.addIssue({ code: 'custom', path: ['models', index, 'name'], message: `duplicate model name "${model.name}"` });
      }
      seen.add(model.name);
      const serving = { ...config.serving, ...model.serving };
      const drift = { ...config.drift, ...model.drift };
      // A model is checked only where it overrides; otherwise the platform-wide check covers it.
      if (model.training) report(trainingSettingsProblems({ ...config.training, ...model.training }), ['models', index, 'training']);
      if (model.serving) report(endpointAutoscalingProblems(serving), ['models', index, 'serving']);
      if (model.drift) report(driftThresholdProblems(drift), ['models', index, 'drift']);
      // A drift section that failed its own checks reaches this refinement without its defaults filled in.
      report(featureThresholdProblems(model.columns, drift.featureThresholds ?? {}), ['models', index, 'drift']);
      // Every instance a model bills must have a price: the idle alarm and the spend metrics state it.
      const prices = config.pricing?.instanceHourUsd ?? {};
      const trainingType = model.training?.instanceType ?? config.training?.instanceType;
      if (
        typeof trainingType === 'string' &&
        INSTANCE_TYPE_PATTERN.test(trainingType) &&
        instanceHourUsd(trainingType, prices) === undefined
      ) {
        ctx.addIssue({
          code: 'custom',
          path: model.training?.instanceType ? ['models', index, 'training', 'instanceType'] : ['training', 'instanceType'],
          message: missingPriceMessage(trainingType, `model "${model.name}"'s training`),
        });
      }
      if (
        serving.mode === 'endpoint' &&
        typeof serving.instanceType === 'string' &&
        INSTANCE_TYPE_PATTERN.test(serving.instanceType) &&
        instanceHourUsd(serving.instanceType, prices) === undefined
      ) {
        ctx.addIssue({
          code: 'custom',
          path: model.serving?.instanceType ? ['models', index, 'serving', 'instanceType'] : ['serving', 'instanceType'],
          message: missingPriceMessage(serving.instanceType, `model "${model.name}"'s endpoint`),
        });
      }
      const columns = model.columns.map((column) => column.name);
      (serving.captureColumns ?? []).forEach((name, position) => {
        if (!columns.includes(name)) {
          ctx.addIssue({
            code: 'custom',
            path: [...(model.serving?.captureColumns ? ['models', index] : []), 'serving', 'captureColumns', position],
            message: `must name one of model "${model.name}"'s columns (${columns.join(', ')}), got "${name}"`,
          });
        }
      });
    });
    report(trainingSettingsProblems(config.training), ['training']);
    report(endpointAutoscalingProblems(config.serving), ['serving']);
    report(driftThresholdProblems(config.drift), ['drift']);
  });

export type PlatformConfigInput = z.input<typeof platformConfigSchema>;
export type PlatformConfig = z.output<typeof platformConfigSchema>;
export type ModelConfig = PlatformConfig['models'][number];
export type ApiConfig = z.output<typeof apiSchema>;

/** A model with the platform-wide training, serving and drift settings merged under its own. */
export interface ResolvedModelConfig extends Omit<ModelConfig, 'training' | 'serving' | 'drift' | 'features' | 'approval'> {
  readonly features: string[];
  readonly approval: ApprovalPolicy;
  readonly training: TrainingConfig;
  readonly serving: ServingConfig;
  readonly drift: DriftConfig;
}

/** The prefix of the platform's physical names: `namePrefix`, else `<projectName>-<environment>`. */
export function namePrefixOf(config: PlatformConfig): string {
  return config.namePrefix ?? `${config.projectName}-${config.environment}`;
}

export function resolveModel(config: PlatformConfig, model: ModelConfig): ResolvedModelConfig {
  return {
    ...model,
    features: model.features ?? defaultFeatures(model),
    training: { ...config.training, ...model.training },
    serving: { ...config.serving, ...model.serving },
    drift: { ...config.drift, ...model.drift },
    approval: model.approval ?? (config.environment === 'prod' ? 'required' : 'optional'),
  };
}

/** An invalid configuration; `issues` holds one line per problem, each naming the field. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly issues: string[],
    source = 'cdk-mlops configuration (cdk.json context "mlops")',
  ) {
    super(`Invalid ${source}:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
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
  throw new ConfigError(result.error.issues.map((issue) => formatIssue(issue, 'mlops')));
}

/**
 * Validates the props of the MlopsPlatform construct (the same schema as cdk.json's context);
 * throws ConfigError naming every invalid prop (`props.training.instanceType: ...`).
 */
export function parsePlatformProps(props: PlatformConfigInput): PlatformConfig {
  const result = platformConfigSchema.safeParse(props, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => formatIssue(issue, 'props')),
    'MlopsPlatform props',
  );
}

/** `cdk synth -c mlops='{...}'` passes context values as strings. */
function parseJsonContext(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw new ConfigError([`mlops: not valid JSON (${(error as Error).message})`]);
  }
}

function formatIssue(issue: z.core.$ZodIssue, root: string): string {
  const path = [root, ...issue.path].reduce<string>(
    (text, key) => (typeof key === 'number' ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    '',
  );
  // Echo scalar inputs only: an object's JSON would bury the message.
  const scalar = 'input' in issue && ['string', 'number', 'boolean'].includes(typeof issue.input);
  const got = scalar && issue.code !== 'invalid_type' && !issue.message.includes('got ') ? ` (got ${JSON.stringify(issue.input)})` : '';
  const message = issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message;
  return `${path}: ${message}${got}`;
}
