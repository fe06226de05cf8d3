/**
 * The state machines' contract with the code that deploys and runs them: where the Amazon States
 * Language files are, the `${Placeholder}` values the training pipeline is deployed with (the
 * TrainingPipeline construct passes them as DefinitionSubstitutions, the offline runtime fills
 * them itself), and the model document's transport through States.Base64Decode.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { ModelDocument } from './model';
import { PROJECT_ROOT } from './project-root';
import { hasLocalStorage } from './sagemaker-rules';
import type { TrainingConfig } from './training';
import { submitDirectoryOf, TRAINING_METRIC_DEFINITIONS } from './training-job';
import { tuningJobConfig, tuningJobNamePrefix, tuningMaxRuntimeSeconds } from './tuning';

export const STATE_MACHINES_DIRECTORY = path.join(PROJECT_ROOT, 'statemachines');
export const TRAINING_DEFINITION_PATH = path.join(STATE_MACHINES_DIRECTORY, 'training.asl.json');

const PLACEHOLDER = /\$\{([A-Za-z0-9_]+)\}/g;

/** The placeholder names a definition uses. */
export function placeholdersOf(definition: string): string[] {
  return [...new Set([...definition.matchAll(PLACEHOLDER)].map((match) => match[1]!))].sort();
}

/**
 * Fills every placeholder; refuses a missing or an unused substitution, so a renamed
 * placeholder fails here rather than as a literal `${Name}` in a deployed pipeline.
 */
export function renderDefinition(definition: string, substitutions: Readonly<Record<string, string>>): string {
  const used = placeholdersOf(definition);
  const missing = used.filter((name) => !(name in substitutions));
  const unused = Object.keys(substitutions).filter((name) => !used.includes(name));
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(
      `state machine substitutions do not match the definition: missing ${missing.join(', ') || 'none'}; unused ${unused.join(', ') || 'none'}`,
    );
  }
  return definition.replace(PLACEHOLDER, (_, name: string) => substitutions[name]!);
}

/**
 * Where the training and tuning jobs place their network interfaces: SageMaker's `VpcConfig`. The
 * subnet and security group ids reach the definition as `${TrainingSubnet<i>}` and
 * `${TrainingSecurityGroup<i>}` placeholders (tokens at synth, literal ids offline).
 */
export interface TrainingNetwork {
  readonly subnetIds: readonly string[];
  readonly securityGroupIds: readonly string[];
}

/** The states whose requests get the `VpcConfig`: both training jobs, and the tuning job's training job definition. */
const NETWORKED_TRAINING_STATES = ['TrainOnSpot', 'TrainOnDemand'] as const;
const NETWORKED_TUNING_STATE = 'TuneHyperparameters';
const SUBNET_PLACEHOLDER = /^TrainingSubnet(\d+)$/;
const SECURITY_GROUP_PLACEHOLDER = /^TrainingSecurityGroup(\d+)$/;

/** How many subnets and security groups a definition's placeholders are for. */
export interface TrainingNetworkShape {
  readonly subnets: number;
  readonly securityGroups: number;
}

/** The network shape the substitutions carry (none without `TrainingSubnet0`). */
export function networkShapeOf(substitutions: Readonly<Record<string, string>>): TrainingNetworkShape | undefined {
  const names = Object.keys(substitutions);
  const subnets = names.filter((name) => SUBNET_PLACEHOLDER.test(name)).length;
  const securityGroups = names.filter((name) => SECURITY_GROUP_PLACEHOLDER.test(name)).length;
  return subnets === 0 && securityGroups === 0 ? undefined : { subnets, securityGroups };
}

/**
 * training.asl.json as text; with a network, the training and tuning requests carry
 * `VpcConfig: { Subnets, SecurityGroupIds }` as placeholders (JSONPath `Parameters` cannot leave a
 * field out conditionally, so the networked definition is this variant of the one file).
 */
export function readTrainingDefinition(network?: TrainingNetworkShape): string {
  const text = readFileSync(TRAINING_DEFINITION_PATH, 'utf8');
  if (!network) return text;
  const vpcConfig = {
    Subnets: Array.from({ length: network.subnets }, (_, index) => `\${TrainingSubnet${index}}`),
    SecurityGroupIds: Array.from({ length: network.securityGroups }, (_, index) => `\${TrainingSecurityGroup${index}}`),
  };
  const definition = JSON.parse(text) as { States: Record<string, { Parameters?: Record<string, unknown> }> };
  for (const name of NETWORKED_TRAINING_STATES) {
    const parameters = definition.States[name]?.Parameters;
    if (!parameters) throw new Error(`training.asl.json has no ${name} state with Parameters to place in a VPC`);
    parameters.VpcConfig = vpcConfig;
  }
  const tuning = definition.States[NETWORKED_TUNING_STATE]?.Parameters?.TrainingJobDefinition as Record<string, unknown> | undefined;
  if (!tuning) throw new Error(`training.asl.json has no ${NETWORKED_TUNING_STATE} state with a TrainingJobDefinition to place in a VPC`);
  tuning.VpcConfig = vpcConfig;
  return JSON.stringify(definition, null, 2);
}

/** The `${TrainingSubnet<i>}` and `${TrainingSecurityGroup<i>}` values of a network. */
export function networkSubstitutions(network: TrainingNetwork): Record<string, string> {
  return Object.fromEntries([
    ...network.subnetIds.map((id, index) => [`TrainingSubnet${index}`, id] as const),
    ...network.securityGroupIds.map((id, index) => [`TrainingSecurityGroup${index}`, id] as const),
  ]);
}

/** `States.Base64Decode` takes at most 10,000 characters; the model document travels through it. */
export const MAX_BASE64_DECODE_INPUT = 10_000;

export interface TrainingSubstitutionValues {
  readonly model: ModelDocument;
  readonly training: TrainingConfig;
  readonly jobNamePrefix: string;
  readonly region: string;
  readonly validateDataFunctionArn: string;
  readonly evaluateModelFunctionArn: string;
  readonly registryFunctionArn: string;
  readonly deployFunctionArn: string;
  readonly alertTopicArn: string;
  readonly trainingRoleArn: string;
  readonly artifactsBucket: string;
  readonly artifactsKeyArn: string;
  /** The model's approval policy: `required` makes every run wait, whatever its input says. */
  readonly approvalPolicy: 'required' | 'optional' | 'off';
  readonly deployPollSeconds: number;
  /** The training program's archive (sourcedir.tar.gz): its bucket and object key. */
  readonly trainingCode: { readonly bucket: string; readonly key: string };
  /** The VPC placement of the training and tuning jobs; none runs them in SageMaker's own network. */
  readonly network?: TrainingNetwork;
}

/** Time a training state allows beyond the job's own limit: provisioning, the model upload and the .sync poll. */
export const TRAINING_STATE_MARGIN_SECONDS = 30 * 60;

/**
 * The training states' TimeoutSeconds: the job's own limit (MaxWaitTimeInSeconds on spot, which
 * includes waiting for capacity; MaxRuntimeInSeconds on demand) plus the margin. SageMaker stops
 * the job at its limit; the state timeout only catches a .sync that never returns.
 */
export function trainingStateTimeoutSeconds(training: Pick<TrainingConfig, 'useSpot' | 'maxWaitSeconds' | 'maxRuntimeSeconds'>): number {
  return (training.useSpot ? training.maxWaitSeconds : training.maxRuntimeSeconds) + TRAINING_STATE_MARGIN_SECONDS;
}

/**
 * The tuning state's TimeoutSeconds: the tuning job's own limit (`ResourceLimits.MaxRuntimeInSeconds`)
 * plus the margin; without tuning, the training states' timeout (the state is never entered).
 */
export function tuningStateTimeoutSeconds(
  training: Pick<TrainingConfig, 'useSpot' | 'maxWaitSeconds' | 'maxRuntimeSeconds' | 'tuning'>,
): number {
  if (!training.tuning) return trainingStateTimeoutSeconds(training);
  return tuningMaxRuntimeSeconds(training.tuning, training) + TRAINING_STATE_MARGIN_SECONDS;
}

/** The HyperParameterTuningJobConfig as the state machine decodes it; `null` when tuning is off. */
export function tuningJobConfigBase64(training: TrainingConfig): string {
  const config = training.tuning ? tuningJobConfig(training.tuning, training) : null;
  return Buffer.from(JSON.stringify(config), 'utf8').toString('base64');
}

/**
 * The `${Placeholder}` values of training.asl.json. Shared with the offline runtime, so both
 * run the same definition; numbers and booleans are strings parsed by States.StringToJson.
 */
export function trainingSubstitutions(values: TrainingSubstitutionValues): Record<string, string> {
  const { training } = values;
  return {
    ModelName: values.model.name,
    ModelDocumentBase64: modelDocumentBase64(values.model),
    ValidateDataFunctionArn: values.validateDataFunctionArn,
    EvaluateModelFunctionArn: values.evaluateModelFunctionArn,
    RegistryFunctionArn: values.registryFunctionArn,
    DeployFunctionArn: values.deployFunctionArn,
    AlertTopicArn: values.alertTopicArn,
    TrainingImage: training.imageUri.replace('{region}', values.region),
    TrainingRoleArn: values.trainingRoleArn,
    ArtifactsBucket: values.artifactsBucket,
    ArtifactsKeyArn: values.artifactsKeyArn,
    TrainingInstanceType: training.instanceType,
    TrainingInstanceCount: String(training.instanceCount),
    TrainingVolumeSizeGb: String(training.volumeSizeGb),
    // Instances with local NVMe storage encrypt it in hardware; SageMaker refuses a VolumeKmsKeyId for them.
    TrainingVolumeEncryption: hasLocalStorage(training.instanceType) ? 'instance' : 'kms',
    TrainingTimeoutSeconds: String(trainingStateTimeoutSeconds(training)),
    MetricDefinitionsBase64: Buffer.from(JSON.stringify(TRAINING_METRIC_DEFINITIONS), 'utf8').toString('base64'),
    TrainingProgram: training.entryPoint,
    TrainingSubmitDirectory: submitDirectoryOf(values.trainingCode.key),
    TrainingCodeUri: `s3://${values.trainingCode.bucket}/${values.trainingCode.key}`,
    UseSpot: String(training.useSpot),
    TrainingCapacity: training.useSpot ? 'spot' : 'onDemand',
    UseTuning: String(training.tuning !== undefined),
    TuningJobConfigBase64: tuningJobConfigBase64(training),
    TuningJobNamePrefix: tuningJobNamePrefix(values.jobNamePrefix),
    TuningTimeoutSeconds: String(tuningStateTimeoutSeconds(training)),
    MaxRuntimeSeconds: String(training.maxRuntimeSeconds),
    MaxWaitSeconds: String(training.maxWaitSeconds),
    JobNamePrefix: values.jobNamePrefix,
    RequireApproval: String(values.approvalPolicy === 'required'),
    ApprovalPolicy: values.approvalPolicy,
    DeployPollSeconds: String(values.deployPollSeconds),
    ...(values.network ? networkSubstitutions(values.network) : {}),
  };
}

/** The model document as the state machine decodes it (`States.Base64Decode` needs no escaping of base64). */
export function modelDocumentBase64(model: ModelDocument): string {
  return Buffer.from(JSON.stringify(model), 'utf8').toString('base64');
}
