/**
 * The offline runtime's IAM enforcement: a checker bound to a function's execution role refuses
 * what AWS would, with AWS's error name and message, and the SDK middleware applies it to real
 * AWS SDK v3 clients before a request is sent (a stub at the build step answers allowed requests,
 * so nothing leaves the process).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, guardClient, iamGuard, loadIamModel } from '../../local/iam';
import { fixtureTemplate } from './fixture';

const MACHINE = 'arn:aws:states:eu-west-1:123456789012:stateMachine:stack-Machine';
const model = loadIamModel(
  fixtureTemplate([
    { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::stack-bucket/data/*' },
    {
      Effect: 'Allow',
      Action: 's3:ListBucket',
      Resource: 'arn:aws:s3:::stack-bucket',
      Condition: { StringLike: { 's3:prefix': 'data/*' } },
    },
    { Effect: 'Allow', Action: 's3:PutObject', Resource: 'arn:aws:s3:::stack-bucket/reports/*' },
    { Effect: 'Allow', Action: 'kms:Decrypt', Resource: { 'Fn::GetAtt': ['Key', 'Arn'] } as never },
    { Effect: 'Allow', Action: 'states:SendTaskSuccess', Resource: MACHINE },
  ]),
);
const check = iamGuard(model, { functionLogicalId: 'Function' });

/** A client whose allowed requests are answered in-process at the build step, after the guard ran. */
function offline<T extends { middlewareStack: { add: (...args: never[]) => unknown } }>(client: T): T {
  (client.middlewareStack.add as (middleware: unknown, options: unknown) => void)(
    () => async () => ({ output: { $metadata: { httpStatusCode: 200 } }, response: {} }),
    { step: 'build', name: 'answerOffline' },
  );
  return guardClient(client, model, check);
}

const clientConfig = { region: 'eu-west-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

describe('iamGuard', () => {
  it('passes a call the role may make', async () => {
    await expect(check('s3:GetObject', 'arn:aws:s3:::stack-bucket/data/train.csv')).resolves.toBeUndefined();
  });

  it("throws AWS's AccessDenied for a call the role may not make, as the function's session", async () => {
    const error = await check('s3:PutObject', 'arn:aws:s3:::stack-bucket/models/m.onnx').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error).toMatchObject({
      name: 'AccessDenied',
      message:
        'User: arn:aws:sts::123456789012:assumed-role/stack-FunctionRole/stack-Function is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::stack-bucket/models/m.onnx because no identity-based policy allows the s3:PutObject action',
      $metadata: { httpStatusCode: 403 },
    });
    expect((error as AccessDeniedError).explanation).toMatch(
      /FunctionPolicy statement #3 allows it on arn:aws:s3:::stack-bucket\/reports\/\*/,
    );
  });

  it('names an explicit deny from a resource policy the way AWS does', async () => {
    await expect(check('s3:GetObject', 'arn:aws:s3:::stack-bucket/data/a.csv', { 'aws:SecureTransport': 'false' })).rejects.toThrow(
      /is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::stack-bucket\/data\/a.csv with an explicit deny in a resource-based policy$/,
    );
  });
});

describe('guardClient', () => {
  it('lets an S3 read through when the role allows the object and its KMS key', async () => {
    const s3 = offline(new S3Client(clientConfig));
    await expect(s3.send(new GetObjectCommand({ Bucket: 'stack-bucket', Key: 'data/train.csv' }))).resolves.toBeDefined();
    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'stack-bucket', Prefix: 'data/' }))).resolves.toBeDefined();
  });

  it('refuses an S3 write whose KMS side effect the role lacks, before anything is sent', async () => {
    const s3 = offline(new S3Client(clientConfig));
    await expect(s3.send(new PutObjectCommand({ Bucket: 'stack-bucket', Key: 'reports/r.json', Body: '{}' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(/not authorized to perform: kms:GenerateDataKey on resource: arn:aws:kms:/),
    });
    await expect(s3.send(new ListObjectsV2Command({ Bucket: 'stack-bucket', Prefix: 'other/' }))).rejects.toMatchObject({
      name: 'AccessDenied',
    });
  });

  it('checks DocumentClient commands against the table, and an index the policy does not name', async () => {
    const documents = offline(DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig)));
    const TableName = model.refOf('Table');
    await expect(documents.send(new GetCommand({ TableName, Key: { PK: 'a' } }))).resolves.toBeDefined();
    await expect(
      documents.send(
        new QueryCommand({ TableName, IndexName: 'GSI1', KeyConditionExpression: 'PK = :pk', ExpressionAttributeValues: { ':pk': 'a' } }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: expect.stringContaining(`dynamodb:Query on resource: ${model.arnOf('Table')}/index/GSI1`),
    });
  });

  it('refuses SendTaskSuccess granted on a state machine ARN, as AWS does', async () => {
    const sfn = offline(new SFNClient(clientConfig));
    await expect(sfn.send(new SendTaskSuccessCommand({ taskToken: 'token', output: '{}' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message:
        'User: arn:aws:sts::123456789012:assumed-role/stack-FunctionRole/stack-Function is not authorized to perform: states:SendTaskSuccess because no identity-based policy allows the states:SendTaskSuccess action',
    });
  });
});
