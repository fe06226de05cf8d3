/**
 * The registry function as Lambda runs it: environment from the construct (TABLE_NAME,
 * MODEL_NAMES), the SDK pointed at DynamoDB Local, typed errors propagating by name.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createRegistryTable, LOCAL_AWS } from '../../../local/dynamodb-local';

const context = {
  functionName: 'registry',
  awsRequestId: 'test-request',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:registry',
} as Context;
const tableName = `registry-handler-${randomUUID()}`;
let handler: (event: unknown, context: Context) => Promise<unknown>;
let client: DynamoDBClient;

beforeAll(async () => {
  const endpoint = inject('dynamoDbEndpoint');
  client = new DynamoDBClient({ ...LOCAL_AWS, endpoint });
  await createRegistryTable(client, tableName);
  Object.assign(process.env, {
    TABLE_NAME: tableName,
    MODEL_NAMES: 'churn',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_REGION: LOCAL_AWS.region,
    AWS_ACCESS_KEY_ID: LOCAL_AWS.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_AWS.credentials.secretAccessKey,
    POWERTOOLS_TRACE_ENABLED: 'false',
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  ({ handler } = await import('../../../lambdas/registry/handler'));
});

afterAll(() => client.destroy());

const register = {
  action: 'register',
  modelName: 'churn',
  artifactUri: 's3://artifacts/models/churn/run-1/model.tar.gz',
  artifactSha256: 'c'.repeat(64),
  metrics: { accuracy: 0.9 },
  lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"e1"' },
  actor: 'arn:aws:states:us-east-1:123456789012:execution:training:run-1',
  idempotencyKey: 'run-1:RegisterVersion',
};

describe('registry handler', () => {
  it('registers, reads back and promotes through the action field', async () => {
    const version = (await handler(register, context)) as { version: number; stage: string };
    expect(version).toMatchObject({ version: 1, stage: 'Registered' });
    expect(await handler(register, context)).toEqual(version);

    const promoted = (await handler({ action: 'promote', modelName: 'churn', version: 1, actor: 'me' }, context)) as {
      model: { productionVersion: number };
    };
    expect(promoted.model.productionVersion).toBe(1);
    expect(await handler({ action: 'getVersion', modelName: 'churn', version: 1 }, context)).toMatchObject({ stage: 'Production' });
  });

  it('throws typed errors whose names Step Functions can catch', async () => {
    await expect(handler({ action: 'getVersion', modelName: 'churn', version: 42 }, context)).rejects.toMatchObject({
      name: 'NotFoundError',
      httpStatus: 404,
    });
    await expect(handler({ action: 'getModel', modelName: 'unknown' }, context)).rejects.toMatchObject({ name: 'NotFoundError' });
    await expect(handler({ ...register, artifactSha256: 'nope', idempotencyKey: undefined }, context)).rejects.toMatchObject({
      name: 'ValidationError',
      httpStatus: 400,
    });
    await expect(handler({ action: 'rollback', modelName: 'churn', actor: 'me' }, context)).rejects.toMatchObject({
      name: 'InvalidTransitionError',
      httpStatus: 409,
    });
  });

  it('refuses an event without a known action, listing the actions', async () => {
    await expect(handler({ modelName: 'churn' }, context)).rejects.toThrow(/registry request needs "action", one of: register, getModel/);
    await expect(handler({ action: 'delete', modelName: 'churn' }, context)).rejects.toMatchObject({ name: 'ValidationError' });
  });

  it('serialises its errors as the API error body', async () => {
    const error = await handler({ action: 'getVersion', modelName: 'churn', version: 7 }, context).catch((caught: unknown) => caught);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      error: { code: 'NotFound', message: 'version 7 of model "churn" does not exist', details: { modelName: 'churn', version: 7 } },
    });
  });
});
