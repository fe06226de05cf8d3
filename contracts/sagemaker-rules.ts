/**
 * SageMaker's request rules that the SDK's types do not express, checked where the platform builds
 * a request (synth-time checks in lib/) and where the offline runtime stands in for SageMaker
 * (local/), so a request SageMaker would refuse fails offline too, with SageMaker's wording
 * ("1 validation error detected: Value … at '…' failed to satisfy constraint: …").
 *
 * Sources: the SageMaker API reference of CreateTrainingJob (TrainingJobName, HyperParameters,
 * InputDataConfig, ResourceConfig.VolumeKmsKeyId, StoppingCondition, CheckpointConfig,
 * EnableManagedSpotTraining, AlgorithmSpecification.MetricDefinitions, Tags) and of
 * CreateEndpointConfig (KmsKeyId, ShadowProductionVariants), the shadow tests guide (one shadow
 * variant, one production variant, real-time instance endpoints only), and "Instance Store Volumes"
 * for local-storage instance types.
 * The tuning job's rules are in sagemaker-tuning-rules.ts.
 */
import { SAGEMAKER_HYPERPARAMETER_LIMITS } from './training-job';

/** `TrainingJobName` (and hyperparameter tuning job, model, endpoint configuration names): 1–63 characters. */
export const SAGEMAKER_NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;
export const MAX_SAGEMAKER_NAME_LENGTH = 63;
/** `Channel.ChannelName`. */
const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9.\-_]{1,64}$/;
/** `InputDataConfig` holds 1 to 20 channels. */
const MAX_CHANNELS = 20;
/** `MetricDefinitions`: at most 40, names ≤ 255 and regexes ≤ 500 characters. */
const METRIC_DEFINITION_LIMITS = { entries: 40, nameLength: 255, regexLength: 500 } as const;
/** `Tags`: at most 50. */
export const MAX_TAGS = 50;
/** `CheckpointConfig.S3Uri`, `OutputDataConfig.S3OutputPath` and channel URIs. */
const S3_URI = /^(https|s3):\/\/([^/]+)\/?(.*)$/;

/**
 * Families whose instances have local NVMe storage without a "d" in their name; every family with
 * a "d" after its generation (c5d, m5dn, g4dn, p4d, p4de, r6id, …) has it too.
 */
const LOCAL_STORAGE_FAMILIES = new Set(['g5', 'g6', 'g6e', 'gr6', 'p5', 'p5e', 'p5en', 'trn1', 'trn1n', 'trn2', 'dl1']);

/**
 * Whether an instance type has local instance storage: SageMaker encrypts it with the instance's
 * hardware module and refuses a `VolumeKmsKeyId` (training) or `KmsKeyId` (endpoint configuration) for it.
 */
export function hasLocalStorage(instanceType: string): boolean {
  const family = instanceType.split('.')[1] ?? '';
  return LOCAL_STORAGE_FAMILIES.has(family) || /^[a-z]+\d+[a-z]*d[a-z]*$/.test(family);
}

/** The fields of a CreateTrainingJob request the rules read (names as in the SageMaker API). */
export interface TrainingJobRequestFields {
  readonly TrainingJobName?: unknown;
  readonly HyperParameters?: Readonly<Record<string, unknown>>;
  readonly AlgorithmSpecification?: { readonly MetricDefinitions?: readonly { Name?: unknown; Regex?: unknown }[] };
  readonly InputDataConfig?: readonly { ChannelName?: unknown; DataSource?: { S3DataSource?: { S3Uri?: unknown } } }[];
  readonly OutputDataConfig?: { readonly S3OutputPath?: unknown };
  readonly ResourceConfig?: { readonly InstanceType?: unknown; readonly InstanceCount?: unknown; readonly VolumeKmsKeyId?: unknown };
  readonly EnableManagedSpotTraining?: unknown;
  readonly StoppingCondition?: { readonly MaxRuntimeInSeconds?: unknown; readonly MaxWaitTimeInSeconds?: unknown };
  readonly CheckpointConfig?: { readonly S3Uri?: unknown };
  readonly VpcConfig?: VpcConfigFields;
  readonly Tags?: readonly unknown[];
}

/** SageMaker's `VpcConfig` (training jobs, tuning jobs' training job definitions, models). */
export interface VpcConfigFields {
  readonly Subnets?: readonly unknown[];
  readonly SecurityGroupIds?: readonly unknown[];
}

/** `VpcConfig`: 1–16 subnets and 1–5 security groups, each id at most 32 characters of `[-0-9a-zA-Z]`. */
export const VPC_CONFIG_LIMITS = { subnets: 16, securityGroups: 5, idLength: 32 } as const;
const VPC_RESOURCE_ID = /^[-0-9a-zA-Z]+$/;

/** Why SageMaker would refuse this `VpcConfig` (field: its path in the request, e.g. `vpcConfig`). */
export function vpcConfigProblems(config: VpcConfigFields, field: string): string[] {
  const problems: string[] = [];
  const lists = [
    ['subnets', config.Subnets, VPC_CONFIG_LIMITS.subnets],
    ['securityGroupIds', config.SecurityGroupIds, VPC_CONFIG_LIMITS.securityGroups],
  ] as const;
  for (const [name, ids, max] of lists) {
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > max) {
      problems.push(
        constraint(`${Array.isArray(ids) ? ids.length : 0} ids`, `${field}.${name}`, `Member must have length between 1 and ${max}`),
      );
      continue;
    }
    for (const id of ids) {
      if (typeof id !== 'string' || id.length > VPC_CONFIG_LIMITS.idLength || !VPC_RESOURCE_ID.test(id)) {
        problems.push(
          constraint(
            id,
            `${field}.${name}`,
            `Member must satisfy regular expression pattern: ${VPC_RESOURCE_ID.source} and have length less than or equal to ${VPC_CONFIG_LIMITS.idLength}`,
          ),
        );
      }
    }
  }
  return problems;
}

/** SageMaker's wording for a field that breaks a constraint. */
export const constraint = (value: unknown, field: string, rule: string) =>
  `Value '${typeof value === 'string' ? value : JSON.stringify(value)}' at '${field}' failed to satisfy constraint: ${rule}`;

/** A SageMaker resource name: present, at most `maxLength` characters, letters and digits joined by hyphens. */
export function nameProblems(value: unknown, field: string, maxLength: number = MAX_SAGEMAKER_NAME_LENGTH): string[] {
  if (typeof value !== 'string' || value.length === 0) return [constraint(value, field, 'Member must not be null')];
  const problems: string[] = [];
  if (value.length > maxLength) {
    problems.push(constraint(value, field, `Member must have length less than or equal to ${maxLength}`));
  }
  const pattern = new RegExp(`^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,${maxLength - 1}}$`);
  if (!pattern.test(value.slice(0, maxLength))) {
    problems.push(constraint(value, field, `Member must satisfy regular expression pattern: ${pattern.source}`));
  }
  return problems;
}

/** Why SageMaker would refuse this CreateTrainingJob request; empty when it would accept it. */
export function createTrainingJobProblems(request: TrainingJobRequestFields): string[] {
  const problems = nameProblems(request.TrainingJobName, 'trainingJobName');
  const hyperparameters = Object.entries(request.HyperParameters ?? {});
  if (hyperparameters.length > SAGEMAKER_HYPERPARAMETER_LIMITS.entries) {
    problems.push(
      constraint(
        `${hyperparameters.length} entries`,
        'hyperParameters',
        `Map value must have length less than or equal to ${SAGEMAKER_HYPERPARAMETER_LIMITS.entries}`,
      ),
    );
  }
  for (const [key, value] of hyperparameters) {
    if (key.length > SAGEMAKER_HYPERPARAMETER_LIMITS.keyLength) {
      problems.push(
        constraint(key, 'hyperParameters', `Map keys must have length less than or equal to ${SAGEMAKER_HYPERPARAMETER_LIMITS.keyLength}`),
      );
    }
    if (typeof value !== 'string') problems.push(constraint(value, `hyperParameters.${key}`, 'Member must be a string'));
    else if (value.length > SAGEMAKER_HYPERPARAMETER_LIMITS.valueLength) {
      problems.push(
        constraint(
          `${value.slice(0, 40)}…`,
          `hyperParameters.${key}`,
          `Map value must have length less than or equal to ${SAGEMAKER_HYPERPARAMETER_LIMITS.valueLength}`,
        ),
      );
    }
  }
  const metrics = request.AlgorithmSpecification?.MetricDefinitions ?? [];
  if (metrics.length > METRIC_DEFINITION_LIMITS.entries) {
    problems.push(
      constraint(
        `${metrics.length} entries`,
        'algorithmSpecification.metricDefinitions',
        'Member must have length less than or equal to 40',
      ),
    );
  }
  for (const metric of metrics) {
    if (typeof metric.Name !== 'string' || metric.Name.length === 0 || metric.Name.length > METRIC_DEFINITION_LIMITS.nameLength) {
      problems.push(constraint(metric.Name, 'algorithmSpecification.metricDefinitions.name', 'Member must have length between 1 and 255'));
    }
    if (typeof metric.Regex !== 'string' || metric.Regex.length === 0 || metric.Regex.length > METRIC_DEFINITION_LIMITS.regexLength) {
      problems.push(
        constraint(metric.Regex, 'algorithmSpecification.metricDefinitions.regex', 'Member must have length between 1 and 500'),
      );
    }
  }
  const channels = request.InputDataConfig ?? [];
  if (channels.length === 0 || channels.length > MAX_CHANNELS) {
    problems.push(constraint(`${channels.length} channels`, 'inputDataConfig', `Member must have length between 1 and ${MAX_CHANNELS}`));
  }
  const seen = new Set<unknown>();
  for (const channel of channels) {
    if (typeof channel.ChannelName !== 'string' || !CHANNEL_NAME_PATTERN.test(channel.ChannelName)) {
      problems.push(
        constraint(
          channel.ChannelName,
          'inputDataConfig.channelName',
          `Member must satisfy regular expression pattern: ${CHANNEL_NAME_PATTERN.source}`,
        ),
      );
    } else if (seen.has(channel.ChannelName)) {
      problems.push(`Channel names must be unique; "${channel.ChannelName}" appears more than once`);
    }
    seen.add(channel.ChannelName);
    const uri = channel.DataSource?.S3DataSource?.S3Uri;
    if (typeof uri !== 'string' || !S3_URI.test(uri)) {
      problems.push(
        constraint(
          uri,
          'inputDataConfig.dataSource.s3DataSource.s3Uri',
          `Member must satisfy regular expression pattern: ${S3_URI.source}`,
        ),
      );
    }
  }
  const output = request.OutputDataConfig?.S3OutputPath;
  if (typeof output !== 'string' || !S3_URI.test(output)) {
    problems.push(constraint(output, 'outputDataConfig.s3OutputPath', `Member must satisfy regular expression pattern: ${S3_URI.source}`));
  }
  const instanceType = request.ResourceConfig?.InstanceType;
  if (typeof instanceType === 'string' && request.ResourceConfig?.VolumeKmsKeyId !== undefined && hasLocalStorage(instanceType)) {
    problems.push(
      `Instance type ${instanceType} has local instance storage, which SageMaker encrypts with the instance's hardware module; a VolumeKmsKeyId cannot be requested for it (ResourceConfig.VolumeKmsKeyId)`,
    );
  }
  const runtime = request.StoppingCondition?.MaxRuntimeInSeconds;
  const wait = request.StoppingCondition?.MaxWaitTimeInSeconds;
  if (typeof runtime !== 'number' || !Number.isInteger(runtime) || runtime < 1) {
    problems.push(constraint(runtime, 'stoppingCondition.maxRuntimeInSeconds', 'Member must have value greater than or equal to 1'));
  }
  if (request.EnableManagedSpotTraining === true) {
    if (typeof wait !== 'number') {
      problems.push('MaxWaitTimeInSeconds must be specified for managed spot training (StoppingCondition.MaxWaitTimeInSeconds)');
    } else if (typeof runtime === 'number' && wait < runtime) {
      problems.push(
        `MaxWaitTimeInSeconds (${wait}) must be greater than or equal to MaxRuntimeInSeconds (${runtime}) for managed spot training`,
      );
    }
  } else if (wait !== undefined) {
    problems.push('MaxWaitTimeInSeconds can be specified only for managed spot training (EnableManagedSpotTraining)');
  }
  const checkpoint = request.CheckpointConfig?.S3Uri;
  if (request.CheckpointConfig !== undefined && (typeof checkpoint !== 'string' || !S3_URI.test(checkpoint))) {
    problems.push(constraint(checkpoint, 'checkpointConfig.s3Uri', `Member must satisfy regular expression pattern: ${S3_URI.source}`));
  }
  if (request.VpcConfig !== undefined) problems.push(...vpcConfigProblems(request.VpcConfig, 'vpcConfig'));
  if ((request.Tags?.length ?? 0) > MAX_TAGS) {
    problems.push(constraint(`${request.Tags!.length} tags`, 'tags', `Member must have length less than or equal to ${MAX_TAGS}`));
  }
  return problems;
}

/** One variant of a CreateEndpointConfig request, as the rules read it. */
export interface EndpointConfigVariantFields {
  readonly VariantName?: unknown;
  readonly InstanceType?: unknown;
  readonly InitialVariantWeight?: unknown;
  readonly ServerlessConfig?: unknown;
}

/** The fields of a CreateEndpointConfig request the rules read. */
export interface EndpointConfigRequestFields {
  readonly EndpointConfigName?: unknown;
  readonly KmsKeyId?: unknown;
  readonly ProductionVariants?: readonly EndpointConfigVariantFields[];
  readonly ShadowProductionVariants?: readonly EndpointConfigVariantFields[];
  readonly AsyncInferenceConfig?: unknown;
}

/**
 * Shadow variants (`ShadowProductionVariants` of CreateEndpointConfig): at most one, and with one
 * the configuration holds exactly one production variant; SageMaker replicates to the shadow the
 * share of requests its `InitialVariantWeight` is of the production variant's, at most all of them
 * (a shadow test's `SamplingPercentage` is at most 100). Shadow testing is for real-time
 * endpoints on instances: neither variant may be serverless (`ServerlessConfig`), and an
 * asynchronous endpoint (`AsyncInferenceConfig`) takes no shadow.
 */
export const SHADOW_VARIANT_LIMITS = { shadowVariants: 1, productionVariantsWithShadow: 1, maxSamplingPercent: 100 } as const;

/**
 * The shadow variant's `InitialVariantWeight` for a sampling share, with the production variant at
 * weight 1: SageMaker replicates `shadow weight / production weight` of the requests.
 */
export function shadowVariantWeight(samplingPercent: number): number {
  return samplingPercent / 100;
}

/** Why SageMaker would refuse this CreateEndpointConfig request. */
export function createEndpointConfigProblems(request: EndpointConfigRequestFields): string[] {
  const problems = nameProblems(request.EndpointConfigName, 'endpointConfigName');
  const production = request.ProductionVariants ?? [];
  const shadows = request.ShadowProductionVariants ?? [];
  if (request.KmsKeyId !== undefined) {
    for (const variant of [...production, ...shadows]) {
      if (typeof variant.InstanceType === 'string' && hasLocalStorage(variant.InstanceType)) {
        problems.push(
          `Instance type ${variant.InstanceType} has local instance storage; a KmsKeyId cannot be specified for an endpoint configuration that uses it (CreateEndpointConfig.KmsKeyId)`,
        );
      }
    }
  }
  if (shadows.length > 0) problems.push(...shadowVariantProblems(production, shadows, request.AsyncInferenceConfig !== undefined));
  return problems;
}

function shadowVariantProblems(
  production: readonly EndpointConfigVariantFields[],
  shadows: readonly EndpointConfigVariantFields[],
  asynchronous: boolean,
): string[] {
  const problems: string[] = [];
  if (shadows.length > SHADOW_VARIANT_LIMITS.shadowVariants) {
    problems.push(
      constraint(
        `${shadows.length} variants`,
        'shadowProductionVariants',
        `Member must have length less than or equal to ${SHADOW_VARIANT_LIMITS.shadowVariants}`,
      ),
    );
  }
  if (production.length !== SHADOW_VARIANT_LIMITS.productionVariantsWithShadow) {
    problems.push(
      `An endpoint configuration with ShadowProductionVariants must have exactly ${SHADOW_VARIANT_LIMITS.productionVariantsWithShadow} variant in ProductionVariants, got ${production.length}`,
    );
  }
  const names = [...production, ...shadows].map((variant) => variant.VariantName);
  if (new Set(names).size !== names.length) {
    problems.push(`Variant names must be unique across ProductionVariants and ShadowProductionVariants, got ${JSON.stringify(names)}`);
  }
  for (const variant of [...production, ...shadows]) {
    if (variant.ServerlessConfig !== undefined) {
      problems.push(
        `Variant ${String(variant.VariantName)} is serverless (ServerlessConfig); shadow variants are supported only on instance-based real-time endpoints`,
      );
    }
  }
  if (asynchronous) problems.push('An asynchronous inference endpoint (AsyncInferenceConfig) cannot have ShadowProductionVariants');
  const productionWeight = production[0]?.InitialVariantWeight ?? 1;
  for (const shadow of shadows) {
    const weight = shadow.InitialVariantWeight ?? 1;
    if (typeof weight !== 'number' || typeof productionWeight !== 'number' || !(weight > 0)) {
      problems.push(constraint(weight, 'shadowProductionVariants.initialVariantWeight', 'Member must have value greater than 0'));
    } else if (productionWeight > 0 && (100 * weight) / productionWeight > SHADOW_VARIANT_LIMITS.maxSamplingPercent) {
      problems.push(
        `Shadow variant ${String(shadow.VariantName)} would sample ${Math.round((100 * weight) / productionWeight)}% of requests (InitialVariantWeight ${weight} against the production variant's ${productionWeight}); at most ${SHADOW_VARIANT_LIMITS.maxSamplingPercent}% can be replicated`,
      );
    }
  }
  return problems;
}

/** SageMaker's ValidationException message for a list of problems. */
export function validationMessage(problems: readonly string[]): string {
  return `${problems.length} validation error${problems.length === 1 ? '' : 's'} detected: ${problems.join('; ')}`;
}
