/**
 * The IAM calls a state machine's service integrations make, read from its ASL definition: each
 * Task's `Resource` (`arn:aws:states:::lambda:invoke`, `...:sagemaker:createTrainingJob.sync`,
 * `...:sns:publish`, `...:states:startExecution.sync:2`, `...:aws-sdk:<service>:<action>`), each
 * Distributed Map, and the logging and tracing of the state machine itself; plus what a training
 * job then does as the role it is passed. Dynamic parameters (`Field.$`) take a representative
 * value: `States.Format` templates are filled with an example execution ID, JSONPath values come
 * from the caller's `examples`. An integration it does not know is an error, never a silent pass.
 *
 * Sources (AWS Step Functions developer guide): "IAM policies for AWS Lambda", "Amazon SageMaker"
 * (CreateTrainingJob, synchronous: Create/Describe/StopTrainingJob, ListTags on "*", iam:PassRole
 * with iam:PassedToService, events:PutTargets/PutRule/DescribeRule on the managed rule
 * StepFunctionsGetEventsForSageMakerTrainingJobsRule; CreateHyperParameterTuningJob, synchronous:
 * Create/Describe/StopHyperParameterTuningJob, ListTrainingJobsForHyperParameterTuningJob, ListTags,
 * iam:PassRole, the rule StepFunctionsGetEventsForSageMakerTuningJobsRule), "Amazon Simple Notification Service",
 * "IAM policies for nested AWS Step Functions calls" (.sync: Describe/StopExecution and the
 * StepFunctionsGetEventsForStepFunctionsExecutionRule rule), "IAM policies for using Distributed
 * Map states" (StartExecution on the state machine, Describe/StopExecution on
 * execution:<name>/*), "Logging using CloudWatch Logs" (the log-delivery actions on "*"),
 * "AWS X-Ray and Step Functions". SageMaker developer guide: "How to use SageMaker AI execution
 * roles" (CreateTrainingJob execution-role permissions) and the CreateTrainingJob API reference
 * (OutputDataConfig.KmsKeyId: the execution role must be allowed kms:Encrypt).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { type IamCall, iamCallsOfSdkCommand, type SdkService, UnmodelledCallError } from './sdk-calls';
import type { IamModel } from './simulate';

/** A call and the role that makes it: the state machine's, or the role a training job runs as. */
export interface RoleCall extends IamCall {
  /** Logical ID of the role AWS authorises the call against. */
  readonly role: string;
  /** Where the call comes from, e.g. `TrainOnSpot (sagemaker:createTrainingJob.sync)`. */
  readonly origin: string;
}

export interface StateMachineCallOptions {
  /**
   * Representative values of dynamic parameters, keyed by their JSONPath (`$.run.datasetUri`).
   * A parameter the calls need and that has no example is an error naming the path.
   */
  readonly examples?: Readonly<Record<string, unknown>>;
}

/** The ID `$$.Execution.Name` takes in examples; the platform starts executions with UUID names. */
export const EXAMPLE_EXECUTION_NAME = '00000000-0000-4000-8000-000000000000';

interface AslState {
  readonly Type: string;
  readonly Resource?: string;
  readonly Parameters?: Record<string, unknown>;
  readonly ItemProcessor?: AslMachine & { ProcessorConfig?: { Mode?: string } };
  readonly Iterator?: AslMachine;
  readonly Branches?: AslMachine[];
  readonly Label?: string;
  readonly ItemReader?: { Resource: string; Parameters?: Record<string, unknown> };
  readonly ResultWriter?: { Resource: string; Parameters?: Record<string, unknown> };
}

export interface AslMachine {
  readonly States: Record<string, AslState>;
}

/**
 * The state machine's definition with its DefinitionSubstitutions filled in: from DefinitionString,
 * or from the asset file a DefinitionS3Location names (`asset.<key>` in the cloud assembly directory).
 */
export function stateMachineDefinition(model: IamModel, stateMachineLogicalId: string, assemblyDirectory?: string): AslMachine {
  const properties = model.resolved.resource(stateMachineLogicalId).Properties ?? {};
  let body: string;
  if (properties.DefinitionString !== undefined) {
    body = model.resolved.resolveString(properties.DefinitionString);
  } else if (properties.Definition !== undefined) {
    body = JSON.stringify(model.resolved.resolve(properties.Definition));
  } else {
    const key = model.resolved.resolveString((properties.DefinitionS3Location as { Key: unknown }).Key);
    if (!assemblyDirectory)
      throw new Error(`state machine ${stateMachineLogicalId} loads its definition from S3 (${key}); pass the cloud assembly directory`);
    body = readFileSync(path.join(assemblyDirectory, `asset.${key}`), 'utf8');
  }
  const substitutions = model.resolved.resolve(properties.DefinitionSubstitutions ?? {}) as Record<string, unknown>;
  const filled = body.replace(/\$\{([A-Za-z0-9_]+)\}/g, (whole, name: string) =>
    name in substitutions ? String(substitutions[name]) : whole,
  );
  return JSON.parse(filled) as AslMachine;
}

/** Every IAM call the state machine's role (and the roles it passes) makes, task by task. */
export function stateMachineCalls(
  model: IamModel,
  stateMachineLogicalId: string,
  definition: AslMachine,
  options: StateMachineCallOptions = {},
): RoleCall[] {
  const properties = model.resolved.resolve(model.resolved.resource(stateMachineLogicalId).Properties ?? {}) as Record<string, unknown>;
  const role = model.role(String(properties.RoleArn)).logicalId;
  const stateMachineArn = model.arnOf(stateMachineLogicalId);
  const stateMachineName = model.resolved.physicalName(stateMachineLogicalId);
  const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
  const arn = (service: string, resource: string) =>
    `arn:${model.environment.partition}:${service}:${model.environment.region}:${model.environment.account}:${resource}`;
  const calls: RoleCall[] = [];
  const add = (origin: string, list: IamCall[], callRole = role) => {
    for (const call of list) calls.push({ ...call, role: callRole, origin });
  };
  const sdk = (service: SdkService, command: string, input: Record<string, unknown>) =>
    iamCallsOfSdkCommand(service, command, input, scope);

  if (
    (properties.LoggingConfiguration as { Level?: string } | undefined)?.Level &&
    (properties.LoggingConfiguration as { Level: string }).Level !== 'OFF'
  ) {
    const actions = [
      'CreateLogDelivery',
      'GetLogDelivery',
      'UpdateLogDelivery',
      'DeleteLogDelivery',
      'ListLogDeliveries',
      'PutResourcePolicy',
      'DescribeResourcePolicies',
      'DescribeLogGroups',
    ];
    add(
      'LoggingConfiguration',
      actions.map((action) => ({ action: `logs:${action}`, resource: '*' })),
    );
  }
  if ((properties.TracingConfiguration as { Enabled?: boolean } | undefined)?.Enabled) {
    const actions = ['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'];
    add(
      'TracingConfiguration',
      actions.map((action) => ({ action: `xray:${action}`, resource: '*' })),
    );
  }

  const visit = (machine: AslMachine) => {
    for (const [name, state] of Object.entries(machine.States)) {
      if (state.Type === 'Map') {
        const processor = state.ItemProcessor ?? state.Iterator;
        if (state.ItemProcessor?.ProcessorConfig?.Mode === 'DISTRIBUTED') {
          const origin = `${name} (Distributed Map)`;
          const child = arn('states', `execution:${stateMachineName}/${state.Label ?? name}:${EXAMPLE_EXECUTION_NAME}`);
          add(origin, [
            { action: 'states:StartExecution', resource: stateMachineArn },
            { action: 'states:DescribeExecution', resource: child },
            { action: 'states:StopExecution', resource: child },
          ]);
          if (state.ItemReader)
            add(
              `${origin} ItemReader`,
              s3Integration(state.ItemReader.Resource, materialize(state.ItemReader.Parameters ?? {}, options), sdk),
            );
          if (state.ResultWriter)
            add(
              `${origin} ResultWriter`,
              s3Integration('arn:aws:states:::s3:putObject', resultWriterObject(state.ResultWriter.Parameters ?? {}, options), sdk),
            );
        }
        if (processor) visit(processor);
        continue;
      }
      if (state.Type === 'Parallel') {
        for (const branch of state.Branches ?? []) visit(branch);
        continue;
      }
      if (state.Type !== 'Task' || !state.Resource) continue;
      calls.push(...taskStateCalls(model, name, state.Resource, materialize(state.Parameters ?? {}, options), role, sdk));
    }
  };
  visit(definition);
  return calls;
}

/** The service names of `arn:aws:states:::aws-sdk:<service>:<action>` this engine maps. */
const AWS_SDK_SERVICES: Record<string, SdkService> = {
  s3: 's3',
  dynamodb: 'dynamodb',
  sfn: 'sfn',
  sagemaker: 'sagemaker',
  sagemakerruntime: 'sagemaker-runtime',
  lambda: 'lambda',
  cloudwatch: 'cloudwatch',
  sns: 'sns',
};

function managedRuleCalls(rule: string): IamCall[] {
  return ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'].map((action) => ({ action, resource: rule }));
}

export type Sdk = (service: SdkService, command: string, input: Record<string, unknown>) => IamCall[];

function s3Integration(resource: string, parameters: Record<string, unknown>, sdk: Sdk): IamCall[] {
  const action = /:s3:([A-Za-z0-9]+)$/.exec(resource)?.[1];
  if (!action) throw new UnmodelledCallError(`${resource} is not an S3 integration this engine models`);
  return sdk('s3', `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`, parameters);
}

function resultWriterObject(parameters: Record<string, unknown>, options: StateMachineCallOptions): Record<string, unknown> {
  const concrete = materialize(parameters, options);
  return { Bucket: concrete.Bucket, Key: `${String(concrete.Prefix ?? '')}${EXAMPLE_EXECUTION_NAME}/manifest.json` };
}

/**
 * What SageMaker does as the training job's role: read the channels, write the model and the
 * checkpoints, pull the image, log and publish metrics, encrypt the volume and the output.
 */
export function trainingRoleCalls(model: IamModel, parameters: Record<string, unknown>, sdk: Sdk): IamCall[] {
  const { partition, region, account } = model.environment;
  const jobName = String(parameters.TrainingJobName);
  const calls: IamCall[] = [];
  const location = (uri: string) => {
    const match = /^s3:\/\/([^/]+)\/(.*)$/.exec(uri);
    if (!match) throw new UnmodelledCallError(`training job S3 URI "${uri}" is not s3://bucket/key`);
    return { Bucket: match[1]!, Key: match[2]! };
  };
  const readPrefix = (uri: string) => {
    const { Bucket, Key } = location(uri);
    const object = Key === '' || Key.endsWith('/') ? `${Key}part-00000` : Key;
    calls.push(...sdk('s3', 'ListObjectsV2Command', { Bucket, Prefix: Key }), ...sdk('s3', 'GetObjectCommand', { Bucket, Key: object }));
  };
  const write = (uri: string, relative: string) => {
    const { Bucket, Key } = location(uri);
    calls.push(...sdk('s3', 'PutObjectCommand', { Bucket, Key: `${Key}${Key === '' || Key.endsWith('/') ? '' : '/'}${relative}` }));
  };
  const channels = (parameters.InputDataConfig ?? []) as Array<{
    ChannelName?: string;
    DataSource?: { S3DataSource?: { S3Uri?: unknown } };
  }>;
  for (const channel of channels) {
    const source = channel.DataSource?.S3DataSource;
    if (!source) continue;
    if (typeof source.S3Uri !== 'string') {
      throw new UnmodelledCallError(`training channel ${channel.ChannelName}: S3Uri is dynamic; give its JSONPath an example value`);
    }
    readPrefix(source.S3Uri);
  }
  const output = parameters.OutputDataConfig as { S3OutputPath?: string; KmsKeyId?: string } | undefined;
  if (output?.S3OutputPath) write(output.S3OutputPath, `${jobName}/output/model.tar.gz`);
  if (output?.KmsKeyId)
    calls.push({ action: 'kms:Encrypt', resource: keyArn(model, output.KmsKeyId), because: 'OutputDataConfig.KmsKeyId' });
  const volumeKey = (parameters.ResourceConfig as { VolumeKmsKeyId?: string } | undefined)?.VolumeKmsKeyId;
  if (volumeKey) {
    calls.push({
      action: 'kms:CreateGrant',
      resource: keyArn(model, volumeKey),
      context: { 'kms:GrantIsForAWSResource': 'true' },
      because: 'ResourceConfig.VolumeKmsKeyId',
    });
  }
  const checkpoints = (parameters.CheckpointConfig as { S3Uri?: string } | undefined)?.S3Uri;
  if (checkpoints) {
    readPrefix(checkpoints);
    write(checkpoints, 'checkpoint.pt');
  }
  const image = (parameters.AlgorithmSpecification as { TrainingImage?: string } | undefined)?.TrainingImage;
  const repository = image && /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(image);
  if (repository) {
    const repositoryArn = `arn:${partition}:ecr:${repository[2]}:${repository[1]}:repository/${repository[3]}`;
    for (const action of ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'])
      calls.push({ action, resource: repositoryArn });
    calls.push({ action: 'ecr:GetAuthorizationToken', resource: '*' });
  }
  const logGroup = `arn:${partition}:logs:${region}:${account}:log-group:/aws/sagemaker/TrainingJobs`;
  calls.push(
    { action: 'logs:CreateLogStream', resource: `${logGroup}:log-stream:${jobName}/algo-1-1700000000` },
    { action: 'logs:PutLogEvents', resource: `${logGroup}:log-stream:${jobName}/algo-1-1700000000` },
    { action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
  );
  return calls;
}

function keyArn(model: IamModel, key: string): string {
  const { partition, region, account } = model.environment;
  return key.startsWith('arn:') ? key : `arn:${partition}:kms:${region}:${account}:key/${key}`;
}

/**
 * Parameters with every `Field.$` replaced by a representative value. Values no call needs may
 * stay undefined; the call that needs one fails naming the field.
 */
export function materialize(parameters: Record<string, unknown>, options: StateMachineCallOptions): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parameters)) {
    if (key.endsWith('.$') && typeof value === 'string') {
      result[key.slice(0, -2)] = evaluateExpression(value, options);
    } else if (Array.isArray(value)) {
      result[key] = value.map((item) => (item && typeof item === 'object' ? materialize(item as Record<string, unknown>, options) : item));
    } else if (value && typeof value === 'object') {
      result[key] = materialize(value as Record<string, unknown>, options);
    } else {
      result[key] = value;
    }
  }
  return result;
}

function evaluateExpression(expression: string, options: StateMachineCallOptions): unknown {
  if (expression in (options.examples ?? {})) return options.examples![expression];
  if (expression === '$$.Execution.Name') return EXAMPLE_EXECUTION_NAME;
  const format = /^States\.Format\('((?:[^'\\]|\\.)*)'/.exec(expression);
  if (format) return format[1]!.replaceAll('{}', EXAMPLE_EXECUTION_NAME);
  const json = /^States\.StringToJson\('((?:[^'\\]|\\.)*)'\)$/.exec(expression);
  if (json) return JSON.parse(json[1]!);
  return undefined;
}

/**
 * The IAM calls one Task state makes: the state machine role's for its integration and, for a
 * training or tuning job, what SageMaker does as the role the request passes. `parameters` are the
 * state's Parameters as the task receives them (concrete values).
 */
export function taskStateCalls(
  model: IamModel,
  name: string,
  resource: string,
  parameters: Record<string, unknown>,
  role: string,
  sdk: Sdk,
): RoleCall[] {
  const { partition, region, account } = model.environment;
  const arn = (service: string, path: string) => `arn:${partition}:${service}:${region}:${account}:${path}`;
  const calls: RoleCall[] = [];
  const add = (origin: string, list: IamCall[], callRole = role) => {
    for (const call of list) calls.push({ ...call, role: callRole, origin });
  };
  const origin = `${name} (${resource.replace(/^arn:[a-z-]+:states:::/, '')})`;
  const integration = /^arn:[a-z-]+:states:::([a-z0-9-]+):([A-Za-z0-9:-]+?)(\.sync(?::2)?|\.waitForTaskToken)?$/.exec(resource);
  if (/^arn:[a-z-]+:lambda:/.test(resource)) {
    add(origin, sdk('lambda', 'InvokeCommand', { FunctionName: resource }));
    return calls;
  }
  if (!integration) throw new UnmodelledCallError(`state ${name}: Resource ${resource} is not a service integration this engine models`);
  const [, service, action, pattern] = integration as unknown as [string, string, string, string | undefined];
  if (service === 'lambda' && action === 'invoke') {
    add(origin, sdk('lambda', 'InvokeCommand', parameters));
  } else if (service === 'sns' && action === 'publish') {
    add(origin, sdk('sns', 'PublishCommand', parameters));
  } else if (service === 'sagemaker' && action === 'createTrainingJob') {
    const job = arn('sagemaker', `training-job/${String(parameters.TrainingJobName).toLowerCase()}`);
    add(origin, [...sdk('sagemaker', 'CreateTrainingJobCommand', parameters), { action: 'sagemaker:ListTags', resource: job }]);
    if (pattern === '.sync') {
      add(origin, [
        { action: 'sagemaker:DescribeTrainingJob', resource: job },
        { action: 'sagemaker:StopTrainingJob', resource: job },
        ...managedRuleCalls(arn('events', 'rule/StepFunctionsGetEventsForSageMakerTrainingJobsRule')),
      ]);
    }
    add(`${origin} as its training role`, trainingRoleCalls(model, parameters, sdk), model.role(String(parameters.RoleArn)).logicalId);
  } else if (service === 'sagemaker' && action === 'createHyperParameterTuningJob') {
    const tuningJob = String(parameters.HyperParameterTuningJobName);
    const job = arn('sagemaker', `hyper-parameter-tuning-job/${tuningJob.toLowerCase()}`);
    add(origin, [...sdk('sagemaker', 'CreateHyperParameterTuningJobCommand', parameters), { action: 'sagemaker:ListTags', resource: job }]);
    if (pattern === '.sync') {
      add(origin, [
        ...['DescribeHyperParameterTuningJob', 'StopHyperParameterTuningJob', 'ListTrainingJobsForHyperParameterTuningJob'].flatMap(
          (command) => sdk('sagemaker', `${command}Command`, { HyperParameterTuningJobName: tuningJob }),
        ),
        ...managedRuleCalls(arn('events', 'rule/StepFunctionsGetEventsForSageMakerTuningJobsRule')),
      ]);
    }
    // Every training job the tuning job starts runs as the definition's role, named `<tuning job>-<NNN>-<8 hex>`.
    const definition = (parameters.TrainingJobDefinition ?? {}) as Record<string, unknown>;
    add(
      `${origin} as its training jobs' role`,
      trainingRoleCalls(model, { ...definition, TrainingJobName: `${tuningJob}-001-0a1b2c3d` }, sdk),
      model.role(String(definition.RoleArn)).logicalId,
    );
  } else if (service === 'states' && action === 'startExecution') {
    const target = String(parameters.StateMachineArn);
    add(origin, [{ action: 'states:StartExecution', resource: target }]);
    if (pattern?.startsWith('.sync')) {
      const execution = `${target.replace(':stateMachine:', ':execution:')}:${EXAMPLE_EXECUTION_NAME}`;
      add(origin, [
        { action: 'states:DescribeExecution', resource: execution },
        { action: 'states:StopExecution', resource: execution },
        ...managedRuleCalls(arn('events', 'rule/StepFunctionsGetEventsForStepFunctionsExecutionRule')),
      ]);
    }
  } else if (service === 'aws-sdk') {
    const [sdkService, sdkAction] = action.split(':') as [string, string];
    const known = AWS_SDK_SERVICES[sdkService];
    if (!known) throw new UnmodelledCallError(`state ${name}: aws-sdk:${sdkService} is not a service this engine models`);
    add(origin, sdk(known, `${sdkAction.charAt(0).toUpperCase()}${sdkAction.slice(1)}Command`, parameters));
  } else if (service === 'dynamodb') {
    add(origin, sdk('dynamodb', `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`, parameters));
  } else {
    throw new UnmodelledCallError(`state ${name}: ${resource} is not a service integration this engine models`);
  }
  return calls;
}
