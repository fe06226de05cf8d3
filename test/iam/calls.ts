/**
 * The representative requests each function's code sends, per SDK command its code scan finds:
 * the buckets, keys, tables and ARNs it really touches, built from the function's own environment
 * (the names the stack hands it) and the platform's key layout (ARTIFACT_PREFIXES, the registry
 * schema). A command the scan finds with no entry here fails the IAM test, so a new call needs a
 * line here and a permission in the stack.
 */

import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { REGISTRY_TABLE_SCHEMA } from '../../contracts/registry-table';
import type { CallScope, FunctionInfo, IamModel } from '../../local/iam';

export type Input = Record<string, unknown>;
/** `service:Command` → the inputs the code sends it with. */
export type CommandInputs = Record<string, Input[]>;

export interface PlatformNames {
  readonly datasetsBucket: string;
  readonly artifactsBucket: string;
  readonly tableName: string;
  readonly model: string;
}

const RUN = 'run-0001';

export interface EndpointResourceProperties {
  readonly EndpointName: string;
  readonly EndpointConfigName: string;
  readonly Tags: Array<{ Key: string; Value: string }>;
}

/** The resolved properties of every endpoint custom resource (Custom::SageMakerEndpoint) of the template. */
export function endpointResources(model: IamModel): EndpointResourceProperties[] {
  return model.resolved
    .logicalIdsOfType('Custom::SageMakerEndpoint')
    .map((logicalId) => model.resolved.resolve(model.resolved.resource(logicalId).Properties) as EndpointResourceProperties);
}

/**
 * The call scope of a deploy function: the template's encryption, and the configurations the
 * function creates at run time (`<endpoint>-v<version>-<deployment>`), whose volumes are
 * encrypted with the target's `kmsKeyId` as the function's CreateEndpointConfig says.
 */
export function deployFunctionScope(fn: FunctionInfo, model: IamModel): CallScope {
  const target = JSON.parse(need(fn, 'ENDPOINT_TARGET')) as { endpointName: string; kmsKeyId: string };
  const { partition, region, account } = model.environment;
  const created = `arn:${partition}:sagemaker:${region}:${account}:endpoint-config/${target.endpointName}-v`;
  return {
    environment: model.environment,
    encryptionOf: (arn) => model.encryptionOf(arn) ?? (arn.startsWith(created) ? { keyArn: target.kmsKeyId, bucketKey: false } : undefined),
  };
}
const EXECUTION = '00000000-0000-4000-8000-000000000000';

function need(fn: FunctionInfo, variable: string): string {
  const value = fn.environment[variable];
  if (!value) throw new Error(`${fn.logicalId} has no ${variable} in its environment`);
  return value;
}

/** The inputs of every command a function folder's code sends. */
export function commandInputs(fn: FunctionInfo, names: PlatformNames, model: IamModel): CommandInputs {
  const { datasetsBucket, artifactsBucket, model: modelName } = names;
  const table = () => need(fn, 'TABLE_NAME');
  const get = (): Input[] => [{ TableName: table(), Key: {} }];
  const executionOf = (stateMachineArn: string) => `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${EXECUTION}`;
  const invokeRegistry = (): Input[] => [{ FunctionName: need(fn, 'REGISTRY_FUNCTION_NAME') }];
  switch (fn.codeFolder) {
    case 'registry':
      return {
        'dynamodb:GetCommand': get(),
        'dynamodb:QueryCommand': [{ TableName: table() }, { TableName: table(), IndexName: REGISTRY_TABLE_SCHEMA.byStageIndex.indexName }],
        'dynamodb:TransactWriteCommand': [{ TransactItems: [{ Put: { TableName: table() } }] }],
      };
    case 'validate-data': {
      const artifacts = need(fn, 'ARTIFACTS_BUCKET');
      const run = `${modelName}/${RUN}/`;
      return {
        's3:ListObjectsV2Command': [
          { Bucket: datasetsBucket, Prefix: `${modelName}/v0042/` },
          { Bucket: artifacts, Prefix: `${ARTIFACT_PREFIXES.profiles}${run}shards/` },
        ],
        's3:HeadObjectCommand': [{ Bucket: datasetsBucket, Key: `${modelName}/train.csv` }],
        's3:GetObjectCommand': [
          { Bucket: datasetsBucket, Key: `${modelName}/train.csv` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.profiles}${run}shards/part-0.profile.json` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.reports}${run}shards/part-0.validation-report.json` },
        ],
        's3:PutObjectCommand': [
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.profiles}${run}profile.json` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.reports}${run}validation-report.json` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.quarantine}${run}rows.jsonl` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.splits}${run}train/part-all-00000.csv` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.splits}${run}holdout/part-all-00000.csv` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.splits}${run}config/model.json` },
        ],
      };
    }
    case 'evaluate-model': {
      const artifacts = need(fn, 'ARTIFACTS_BUCKET');
      return {
        'dynamodb:GetCommand': get(),
        's3:ListObjectsV2Command': [
          { Bucket: datasetsBucket, Prefix: `${modelName}/holdout/` },
          { Bucket: artifacts, Prefix: `${ARTIFACT_PREFIXES.splits}${modelName}/${RUN}/holdout/` },
        ],
        's3:HeadObjectCommand': [{ Bucket: datasetsBucket, Key: `${modelName}/holdout.csv` }],
        's3:GetObjectCommand': [
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.models}${modelName}/mlops-dev-${modelName}-${EXECUTION}/output/model.tar.gz` },
          { Bucket: datasetsBucket, Key: `${modelName}/holdout.csv` },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.splits}${modelName}/${RUN}/holdout/part-all-00000.csv` },
        ],
        's3:PutObjectCommand': [{ Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.reports}${modelName}/${RUN}/evaluation-report.json` }],
      };
    }
    case 'check-drift': {
      const artifacts = need(fn, 'ARTIFACTS_BUCKET');
      const capture = need(fn, 'CAPTURE_BUCKET');
      const captured = `${modelName}/serverless/2024/01/01/10/2024-01-01T10-00-00-000Z-1.jsonl`;
      return {
        'dynamodb:GetCommand': get(),
        'lambda:InvokeCommand': invokeRegistry(),
        's3:ListObjectsV2Command': [
          { Bucket: capture, Prefix: `${modelName}/serverless/2024/01/01/10/` },
          { Bucket: capture, Prefix: `${modelName}/endpoint/` },
          // A batch run's scored rows (the batch pipeline's CheckDrift state).
          { Bucket: capture, Prefix: `${modelName}/batch/${EXECUTION}/` },
        ],
        's3:HeadObjectCommand': [{ Bucket: capture, Key: captured }],
        's3:GetObjectCommand': [
          { Bucket: capture, Key: captured },
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.profiles}${modelName}/${RUN}/profile.json` },
        ],
        's3:PutObjectCommand': [
          { Bucket: artifacts, Key: `${ARTIFACT_PREFIXES.reports}${modelName}/drift/2024-01-01T10-00-00-000Z-abc/drift-report.json` },
        ],
      };
    }
    case 'predict':
      return {
        'dynamodb:GetCommand': get(),
        'lambda:InvokeCommand': [{ FunctionName: need(fn, 'SHADOW_FUNCTION_NAME'), InvocationType: 'Event' }],
        's3:GetObjectCommand': [{ Bucket: artifactsBucket, Key: `${ARTIFACT_PREFIXES.models}${modelName}/job/output/model.tar.gz` }],
        's3:PutObjectCommand': [
          { Bucket: need(fn, 'CAPTURE_BUCKET'), Key: `${modelName}/serverless/2024/01/01/10/2024-01-01T10-00-00-000Z-1.jsonl` },
        ],
      };
    case 'batch-score': {
      // A run reads its input under the model's dataset prefix, the version's artifact, and writes
      // scored objects and the manifest under batch/<model>/, capture records under <model>/batch/.
      const input = `${modelName}/batch/2024-w01/`;
      const output = `batch/${modelName}/2024-w01/`;
      return {
        'dynamodb:GetCommand': get(),
        's3:ListObjectsV2Command': [{ Bucket: datasetsBucket, Prefix: input }],
        's3:HeadObjectCommand': [{ Bucket: datasetsBucket, Key: `${input}part-0.csv` }],
        's3:GetObjectCommand': [
          { Bucket: datasetsBucket, Key: `${input}part-0.csv` },
          { Bucket: artifactsBucket, Key: `${ARTIFACT_PREFIXES.models}${modelName}/job/output/model.tar.gz` },
        ],
        's3:PutObjectCommand': [
          { Bucket: artifactsBucket, Key: `${output}part-0.scored.csv` },
          { Bucket: artifactsBucket, Key: `${output}_manifest.json` },
          { Bucket: need(fn, 'CAPTURE_BUCKET'), Key: `${modelName}/batch/${EXECUTION}/part-0.jsonl` },
        ],
      };
    }
    case 'shadow-score':
      return {
        'dynamodb:GetCommand': get(),
        's3:GetObjectCommand': [{ Bucket: artifactsBucket, Key: `${ARTIFACT_PREFIXES.models}${modelName}/job/output/model.tar.gz` }],
      };
    case 'deploy-serverless':
      return {
        'dynamodb:GetCommand': get(),
        'lambda:InvokeCommand': invokeRegistry(),
        'cloudwatch:DescribeAlarmsCommand': [{ AlarmNames: need(fn, 'CANARY_ALARM_NAMES').split(','), AlarmTypes: ['MetricAlarm'] }],
        'cloudwatch:GetMetricDataCommand': [{ MetricDataQueries: [] }],
      };
    case 'deploy-endpoint': {
      const target = JSON.parse(need(fn, 'ENDPOINT_TARGET')) as {
        endpointName: string;
        variantName: string;
        executionRoleArn: string;
        kmsKeyId: string;
        shadow?: { captureS3Uri: string };
      };
      const name = `${target.endpointName}-v3-0123456789ab`;
      // The shadow phase's configurations: production with the shadow variant (-s…), production alone again (-r…).
      const shadowConfig = `${target.endpointName}-v3-s0123456789ab`;
      const restoreConfig = `${target.endpointName}-v2-r0123456789ab`;
      if (!target.shadow) throw new Error(`${fn.logicalId}: the IAM test synthesizes endpoint serving with a shadow phase`);
      const [, captureBucket, capturePrefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(target.shadow.captureS3Uri)!;
      // SageMaker's capture layout: <destination>/<endpoint>/<variant>/yyyy/mm/dd/hh/<file>.jsonl, both variants.
      const hour = (variant: string) => `${capturePrefix}/${target.endpointName}/${variant}/2026/12/01/22/`;
      const variants = [target.variantName, `${target.variantName}-shadow`];
      return {
        'dynamodb:GetCommand': get(),
        'lambda:InvokeCommand': invokeRegistry(),
        'sagemaker:CreateModelCommand': [{ ModelName: name, ExecutionRoleArn: target.executionRoleArn }],
        'sagemaker:CreateEndpointConfigCommand': [name, shadowConfig, restoreConfig].map((EndpointConfigName) => ({
          EndpointConfigName,
          KmsKeyId: target.kmsKeyId,
        })),
        'sagemaker:UpdateEndpointCommand': [name, shadowConfig, restoreConfig].map((EndpointConfigName) => ({
          EndpointName: target.endpointName,
          EndpointConfigName,
        })),
        'sagemaker:DescribeEndpointCommand': [{ EndpointName: target.endpointName }],
        'sagemaker:DescribeEndpointConfigCommand': [
          { EndpointConfigName: `${target.endpointName}-v2-b0123456789ab` },
          { EndpointConfigName: shadowConfig },
        ],
        'cloudwatch:GetMetricDataCommand': [{ MetricDataQueries: [] }],
        's3:ListObjectsV2Command': variants.map((variant) => ({ Bucket: captureBucket, Prefix: hour(variant) })),
        's3:GetObjectCommand': variants.map((variant) => ({ Bucket: captureBucket, Key: `${hour(variant)}10-00-00-000-0a1b2c3d.jsonl` })),
      };
    }
    case 'endpoint-resource': {
      // The custom resource's requests for each endpoint resource of the template: its name, bootstrap configuration and tags.
      const endpoints = endpointResources(model);
      return {
        'sagemaker:CreateEndpointCommand': endpoints.map(({ EndpointName, EndpointConfigName, Tags }) => ({
          EndpointName,
          EndpointConfigName,
          Tags,
        })),
        'sagemaker:DescribeEndpointCommand': endpoints.map(({ EndpointName }) => ({ EndpointName })),
        'sagemaker:DeleteEndpointCommand': endpoints.map(({ EndpointName }) => ({ EndpointName })),
      };
    }
    case 'api': {
      const machines = need(fn, 'STATE_MACHINE_ARNS').split(',');
      return {
        'lambda:InvokeCommand': invokeRegistry(),
        'sfn:DescribeExecutionCommand': machines.map((arn) => ({ executionArn: executionOf(arn) })),
        'sfn:GetExecutionHistoryCommand': machines.map((arn) => ({ executionArn: executionOf(arn) })),
        'sfn:DescribeStateMachineForExecutionCommand': machines.map((arn) => ({ executionArn: executionOf(arn) })),
        'sfn:DescribeStateMachineCommand': machines.map((arn) => ({ stateMachineArn: arn })),
        'sfn:RedriveExecutionCommand': machines.map((arn) => ({ executionArn: executionOf(arn) })),
        'sfn:SendTaskSuccessCommand': [{ taskToken: 'token' }],
        'sfn:SendTaskFailureCommand': [{ taskToken: 'token' }],
        // Model cards: the run's evaluation report and profile, the card written under cards/.
        's3:GetObjectCommand': [
          { Bucket: need(fn, 'ARTIFACTS_BUCKET'), Key: `${ARTIFACT_PREFIXES.reports}${modelName}/${RUN}/evaluation-report.json` },
          { Bucket: need(fn, 'ARTIFACTS_BUCKET'), Key: `${ARTIFACT_PREFIXES.profiles}${modelName}/${RUN}/profile.json` },
        ],
        's3:PutObjectCommand': [
          { Bucket: need(fn, 'ARTIFACTS_BUCKET'), Key: `${ARTIFACT_PREFIXES.reports}${modelName}/cards/v000001.json` },
        ],
      };
    }
    case 'start-retraining': {
      const machine = need(fn, 'STATE_MACHINE_ARN');
      return {
        's3:ListObjectsV2Command': [{ Bucket: need(fn, 'DATASETS_BUCKET'), Prefix: `${need(fn, 'MODEL_NAME')}/` }],
        'sfn:ListExecutionsCommand': [{ stateMachineArn: machine, maxResults: 1 }],
        'sfn:StartExecutionCommand': [{ stateMachineArn: machine, name: EXECUTION, input: '{}' }],
      };
    }
    case 'publish-registry-events': {
      const ledger = need(fn, 'LEDGER_TABLE');
      const key = { eventId: 'event-1' };
      return {
        'dynamodb:PutCommand': [{ TableName: ledger, Item: key }],
        'dynamodb:GetCommand': [{ TableName: ledger, Key: key }],
        'dynamodb:UpdateCommand': [{ TableName: ledger, Key: key }],
        'dynamodb:DeleteCommand': [{ TableName: ledger, Key: key }],
        'eventbridge:PutEventsCommand': [
          {
            Entries: [
              { EventBusName: need(fn, 'EVENT_BUS_NAME'), Source: 'cdk-mlops', DetailType: 'Model Version Promoted', Detail: '{}' },
            ],
          },
        ],
      };
    }
    default:
      throw new Error(
        `${fn.logicalId} runs lambdas/${fn.codeFolder}, which the IAM test has no requests for (${model.environment.stackName})`,
      );
  }
}
