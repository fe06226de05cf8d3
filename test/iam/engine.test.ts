/**
 * The offline IAM engine on small hand-written templates: intrinsic resolution and fake physical
 * names, the policies a role gets, AWS's evaluation rules (resource types, resource policies, key
 * policies, boundaries, conditions), the SDK and Step Functions call catalogue, and the code scan.
 * The "catches" tests pin the engine to the defects it must find, independent of today's stack.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  arnOf,
  commandsOf,
  iamCallsOfSdkCommand,
  loadIamModel,
  ResolvedTemplate,
  scanFunctionCode,
  stateMachineCalls,
  UnmodelledCallError,
} from '../../local/iam';
import { fixtureTemplate } from './fixture';

const ACCOUNT = '123456789012';
const machineArn = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:stack-Machine`;

describe('template resolution', () => {
  const resolved = new ResolvedTemplate(fixtureTemplate(), { stackName: 'mlops-dev' });

  it('derives deterministic physical names from logical IDs, lower-case for buckets', () => {
    expect(resolved.ref('Bucket')).toBe('mlops-dev-bucket');
    expect(resolved.ref('Table')).toBe('mlops-dev-Table');
    expect(resolved.arnOf('Table')).toBe(`arn:aws:dynamodb:eu-west-1:${ACCOUNT}:table/mlops-dev-Table`);
    expect(resolved.ref('Machine')).toBe(`arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:mlops-dev-Machine`);
    expect(resolved.arnOf('Key')).toMatch(new RegExp(`^arn:aws:kms:eu-west-1:${ACCOUNT}:key/[0-9a-f]{8}-[0-9a-f]{4}-`));
  });

  it('gives a log group the ARN CloudFormation returns, ending in ":*"', () => {
    expect(arnOf(fixtureTemplate(), 'Logs')).toBe(`arn:aws:logs:eu-west-1:${ACCOUNT}:log-group:stack-Logs:*`);
  });

  it('resolves Fn::Join, Fn::Sub, Fn::Select, Fn::Split and the pseudo parameters', () => {
    expect(
      resolved.resolve({
        joined: { 'Fn::Join': ['/', [{ Ref: 'Bucket' }, { 'Fn::GetAtt': ['Machine', 'Name'] }]] },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JavaScript template
        sub: { 'Fn::Sub': 'arn:${AWS::Partition}:s3:::${Bucket}/${Machine.Name}/${!Literal}' },
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JavaScript template
        subWithVariables: { 'Fn::Sub': ['${Name}-${AWS::Region}', { Name: { Ref: 'Table' } }] },
        selected: { 'Fn::Select': [1, { 'Fn::Split': [':', { 'Fn::GetAtt': ['Table', 'Arn'] }] }] },
        suffix: { Ref: 'AWS::URLSuffix' },
        removed: { Ref: 'AWS::NoValue' },
      }),
    ).toEqual({
      joined: 'mlops-dev-bucket/mlops-dev-Machine',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation Fn::Sub syntax, not a JavaScript template
      sub: 'arn:aws:s3:::mlops-dev-bucket/mlops-dev-Machine/${Literal}',
      subWithVariables: 'mlops-dev-Table-eu-west-1',
      selected: 'aws',
      suffix: 'amazonaws.com',
    });
  });
});

describe('role policies', () => {
  const model = loadIamModel(fixtureTemplate([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::stack-bucket/*' }]));

  it('collects inline, attached and AWS-managed policies, and reports managed ones it lacks', () => {
    const role = model.role('FunctionRole');
    expect(role.identityPolicies.map((policy) => policy.name)).toEqual([
      'FunctionRole/Inline',
      'FunctionPolicy',
      'aws:service-role/AWSLambdaBasicExecutionRole',
    ]);
    const unknown = loadIamModel(
      fixtureTemplate([], {
        OtherRole: { Type: 'AWS::IAM::Role', Properties: { ManagedPolicyArns: ['arn:aws:iam::aws:policy/NotInTheTable'] } },
      }),
    );
    expect(unknown.role('OtherRole').unknownManagedPolicies).toEqual(['arn:aws:iam::aws:policy/NotInTheTable']);
  });

  it('finds a role by logical ID, ARN or session ARN', () => {
    const arn = model.arnOf('FunctionRole');
    expect(model.role(arn).logicalId).toBe('FunctionRole');
    expect(model.role(model.sessionArn('FunctionRole', 'fn')).logicalId).toBe('FunctionRole');
    expect(() => model.role('Nope')).toThrow(/no AWS::IAM::Role/);
  });

  it('honours a permissions boundary', async () => {
    const bounded = loadIamModel(
      fixtureTemplate([], {
        Boundary: {
          Type: 'AWS::IAM::ManagedPolicy',
          Properties: {
            PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }] },
          },
        },
        BoundedRole: {
          Type: 'AWS::IAM::Role',
          Properties: {
            PermissionsBoundary: { Ref: 'Boundary' },
            Policies: [{ PolicyName: 'All', PolicyDocument: { Statement: [{ Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }] } }],
          },
        },
      }),
    );
    const result = await bounded.simulate({ role: 'BoundedRole', action: 'dynamodb:GetItem', resource: bounded.arnOf('Table') });
    expect(result.allowed).toBe(false);
    expect(result.explanation).toMatch(/permissions boundary/);
  });
});

describe('simulation', () => {
  const bucketObject = 'arn:aws:s3:::stack-bucket/data/train.csv';

  it('allows what a statement grants and explains what it does not', async () => {
    const model = loadIamModel(
      fixtureTemplate([{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::stack-bucket/data/*' }]),
    );
    expect((await model.simulate({ role: 'FunctionRole', action: 's3:GetObject', resource: bucketObject })).allowed).toBe(true);
    const denied = await model.simulate({
      role: 'FunctionRole',
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::stack-bucket/models/m.onnx',
    });
    expect(denied).toMatchObject({ allowed: false, decision: 'ImplicitlyDenied' });
    expect(denied.explanation).toBe(
      'role FunctionRole (stack-FunctionRole) may not s3:GetObject on arn:aws:s3:::stack-bucket/models/m.onnx: no statement allows it; FunctionPolicy statement #1 allows it on arn:aws:s3:::stack-bucket/data/*, not on this resource',
    );
  });

  it('applies the bucket policy: the SSL-only deny refuses a request without aws:SecureTransport', async () => {
    const model = loadIamModel(fixtureTemplate([{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }]));
    const refused = await model.simulate({
      role: 'FunctionRole',
      action: 's3:GetObject',
      resource: bucketObject,
      context: { 'aws:SecureTransport': 'false' },
    });
    expect(refused.decision).toBe('ExplicitlyDenied');
    expect(refused.explanation).toMatch(/explicitly denied by resource policy BucketPolicy statement "DenyInsecureTransport"/);
  });

  it('needs the key policy as well as the identity policy for a KMS key', async () => {
    const model = loadIamModel(fixtureTemplate([{ Effect: 'Allow', Action: 'kms:Decrypt', Resource: '*' }]));
    expect((await model.simulate({ role: 'FunctionRole', action: 'kms:Decrypt', resource: model.arnOf('Key') })).allowed).toBe(true);
    const locked = await model.simulate({ role: 'FunctionRole', action: 'kms:Decrypt', resource: model.arnOf('LockedKey') });
    expect(locked.allowed).toBe(false);
  });

  it('checks only the identity side of a resource in another account, and says so', async () => {
    const model = loadIamModel(fixtureTemplate([{ Effect: 'Allow', Action: 'ecr:BatchGetImage', Resource: '*' }]));
    const result = await model.simulate({
      role: 'FunctionRole',
      action: 'ecr:BatchGetImage',
      resource: 'arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-training',
    });
    expect(result.allowed).toBe(true);
    expect(result.explanation).toMatch(/identity policies only: the resource is in account 763104351884/);
  });

  it('catches a task-token grant scoped to a state machine: SendTaskSuccess supports no resource type', async () => {
    const scoped = loadIamModel(
      fixtureTemplate([{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Resource: machineArn }]),
    );
    const result = await scoped.simulate({ role: 'FunctionRole', action: 'states:SendTaskSuccess', resource: machineArn });
    expect(result.allowed).toBe(false);
    expect(result.explanation).toMatch(/supports no resource type, so AWS authorises it on "\*"/);
    const fixed = loadIamModel(
      fixtureTemplate([{ Effect: 'Allow', Action: ['states:SendTaskSuccess', 'states:SendTaskFailure'], Resource: '*' }]),
    );
    expect((await fixed.simulate({ role: 'FunctionRole', action: 'states:SendTaskFailure', resource: '*' })).allowed).toBe(true);
  });

  it('catches an UpdateEndpoint grant on the endpoint alone: the endpoint configuration is a required resource too', async () => {
    const endpoint = `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:endpoint/churn`;
    const model = loadIamModel(fixtureTemplate([{ Effect: 'Allow', Action: 'sagemaker:UpdateEndpoint', Resource: endpoint }]));
    const calls = iamCallsOfSdkCommand(
      'sagemaker',
      'UpdateEndpointCommand',
      { EndpointName: 'churn', EndpointConfigName: 'churn-v2' },
      model,
    );
    expect(calls.map((call) => call.resource)).toEqual([endpoint, `arn:aws:sagemaker:eu-west-1:${ACCOUNT}:endpoint-config/churn-v2`]);
    const results = await Promise.all(calls.map((call) => model.simulate({ role: 'FunctionRole', ...call })));
    expect(results.map((result) => result.allowed)).toEqual([true, false]);
  });

  it('reports an action that does not exist instead of denying it silently', async () => {
    const model = loadIamModel(fixtureTemplate());
    const result = await model.simulate({ role: 'FunctionRole', action: 's3:GetObjekt', resource: bucketObject });
    expect(result).toMatchObject({ allowed: false, decision: 'InvalidRequest' });
  });
});

describe('SDK call catalogue', () => {
  const model = loadIamModel(fixtureTemplate());

  it('adds the KMS calls S3 makes for the caller on an SSE-KMS bucket, with kms:ViaService', () => {
    const [put, generate] = iamCallsOfSdkCommand('s3', 'PutObjectCommand', { Bucket: 'stack-bucket', Key: 'reports/a.json' }, model);
    expect(put).toEqual({ action: 's3:PutObject', resource: 'arn:aws:s3:::stack-bucket/reports/a.json' });
    expect(generate).toMatchObject({
      action: 'kms:GenerateDataKey',
      resource: model.arnOf('Key'),
      context: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com', 'kms:EncryptionContext:aws:s3:arn': 'arn:aws:s3:::stack-bucket' },
    });
    expect(iamCallsOfSdkCommand('s3', 'GetObjectCommand', { Bucket: 'stack-bucket', Key: 'a' }, model).map((call) => call.action)).toEqual([
      's3:GetObject',
      'kms:Decrypt',
    ]);
    expect(iamCallsOfSdkCommand('s3', 'ListObjectsV2Command', { Bucket: 'stack-bucket', Prefix: 'churn/' }, model)).toEqual([
      { action: 's3:ListBucket', resource: 'arn:aws:s3:::stack-bucket', context: { 's3:prefix': 'churn/' } },
    ]);
  });

  it('authorises a DynamoDB transaction per item, a query on its index, and the table key for each', () => {
    const calls = iamCallsOfSdkCommand(
      'dynamodb',
      'TransactWriteCommand',
      { TransactItems: [{ Put: { TableName: 'stack-Table' } }, { ConditionCheck: { TableName: 'stack-Table' } }] },
      model,
    );
    expect(calls.map((call) => call.action)).toEqual(['dynamodb:PutItem', 'dynamodb:ConditionCheckItem', 'kms:Decrypt']);
    expect(iamCallsOfSdkCommand('dynamodb', 'QueryCommand', { TableName: 'stack-Table', IndexName: 'GSI1' }, model)[0]!.resource).toBe(
      `${model.arnOf('Table')}/index/GSI1`,
    );
  });

  it('refuses to guess a command it does not model', () => {
    expect(() => iamCallsOfSdkCommand('s3', 'PutBucketPolicyCommand', { Bucket: 'b' }, model)).toThrow(UnmodelledCallError);
  });
});

describe('state machine integrations', () => {
  const model = loadIamModel(fixtureTemplate());
  const calls = (States: Record<string, unknown>) =>
    stateMachineCalls(model, 'Machine', { States } as never).map(({ action, resource, origin }) => ({ action, resource, origin }));

  it('maps a nested .sync:2 execution to StartExecution, Describe/StopExecution and the managed rule', () => {
    const child = `arn:aws:states:eu-west-1:${ACCOUNT}:stateMachine:child`;
    const result = calls({
      Run: { Type: 'Task', Resource: 'arn:aws:states:::states:startExecution.sync:2', Parameters: { StateMachineArn: child } },
    });
    expect(result.map((call) => call.action)).toEqual([
      'states:StartExecution',
      'states:DescribeExecution',
      'states:StopExecution',
      'events:PutTargets',
      'events:PutRule',
      'events:DescribeRule',
    ]);
    expect(result[5]!.resource).toBe(`arn:aws:events:eu-west-1:${ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`);
  });

  it('maps aws-sdk integrations through the SDK catalogue and a Distributed Map to child executions of its own state machine', () => {
    const result = calls({
      Fan: {
        Type: 'Map',
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'EXPRESS' },
          States: {
            Get: { Type: 'Task', Resource: 'arn:aws:states:::aws-sdk:s3:getObject', Parameters: { Bucket: 'stack-bucket', Key: 'k' } },
          },
        },
      },
    });
    expect(result).toEqual(
      expect.arrayContaining([
        { action: 'states:StartExecution', resource: model.arnOf('Machine'), origin: 'Fan (Distributed Map)' },
        { action: 's3:GetObject', resource: 'arn:aws:s3:::stack-bucket/k', origin: 'Get (aws-sdk:s3:getObject)' },
      ]),
    );
  });

  it('refuses an integration it does not model', () => {
    expect(() => calls({ Send: { Type: 'Task', Resource: 'arn:aws:states:::sqs:sendMessage', Parameters: {} } })).toThrow(
      UnmodelledCallError,
    );
  });
});

describe('code scan', () => {
  it("counts a shared class's command only for functions whose code reaches that method", () => {
    const root = mkdtempSync(path.join(tmpdir(), 'iam-scan-'));
    mkdirSync(path.join(root, 'lambdas', 'shared'), { recursive: true });
    mkdirSync(path.join(root, 'lambdas', 'reader'));
    writeFileSync(
      path.join(root, 'lambdas', 'shared', 'store.ts'),
      [
        "import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';",
        'export interface Store { read(key: string): Promise<unknown>; write(key: string): Promise<unknown> }',
        'export class S3Store implements Store {',
        '  constructor(private readonly client: S3Client) {}',
        "  read(key: string) { return this.client.send(new GetObjectCommand({ Bucket: 'b', Key: key })); }",
        "  write(key: string) { return this.client.send(new PutObjectCommand({ Bucket: 'b', Key: key })); }",
        '}',
      ].join('\n'),
    );
    writeFileSync(
      path.join(root, 'lambdas', 'reader', 'handler.ts'),
      [
        "import { S3Client } from '@aws-sdk/client-s3';",
        "import { S3Store, type Store } from '../shared/store';",
        'const store: Store = new S3Store(new S3Client({}));',
        "export const handler = async () => store.read('k');",
      ].join('\n'),
    );
    const scan = scanFunctionCode(root, 'lambdas/reader/handler.ts');
    expect(scan.files).toEqual(['lambdas/reader/handler.ts', 'lambdas/shared/store.ts']);
    expect(commandsOf(scan)).toEqual([{ service: 's3', command: 'GetObjectCommand' }]);
    expect(scan.commands[0]).toMatchObject({ file: 'lambdas/shared/store.ts', line: 5 });
  });

  it('reaches every function of a dispatch table read by a computed key, in a module the handler imports', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'iam-scan-'));
    mkdirSync(path.join(root, 'lambdas', 'shared'), { recursive: true });
    mkdirSync(path.join(root, 'lambdas', 'writer'));
    writeFileSync(
      path.join(root, 'lambdas', 'shared', 'store.ts'),
      [
        "import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';",
        'export class S3Store {',
        '  constructor(private readonly client: S3Client) {}',
        "  read(key: string) { return this.client.send(new GetObjectCommand({ Bucket: 'b', Key: key })); }",
        "  write(key: string) { return this.client.send(new PutObjectCommand({ Bucket: 'b', Key: key })); }",
        '}',
      ].join('\n'),
    );
    writeFileSync(
      path.join(root, 'lambdas', 'writer', 'writer.ts'),
      [
        "import type { S3Store } from '../shared/store';",
        'const OPERATIONS = { save: (store: S3Store, key: string) => store.write(key) } as const;',
        "export const dispatch = (store: S3Store, action: 'save', key: string) => OPERATIONS[action](store, key);",
      ].join('\n'),
    );
    writeFileSync(
      path.join(root, 'lambdas', 'writer', 'handler.ts'),
      [
        "import { S3Client } from '@aws-sdk/client-s3';",
        "import { S3Store } from '../shared/store';",
        "import { dispatch } from './writer';",
        "export const handler = async () => dispatch(new S3Store(new S3Client({})), 'save', 'k');",
      ].join('\n'),
    );
    expect(commandsOf(scanFunctionCode(root, 'lambdas/writer/handler.ts'))).toEqual([{ service: 's3', command: 'PutObjectCommand' }]);
  });
});
