/**
 * The offline runtime checks its calls against the synthesized stack's IAM (local/deployed-iam.ts):
 * a function's S3 and DynamoDB calls as its execution role, a pipeline task as the state machine's
 * role, a training job as its training role — with the runtime's local names translated to the
 * deployed ones. Allowed calls pass; a call the deployed role would be denied fails offline with
 * AWS's error, before anything is sent; and a whole training run fails on a template that lacks a
 * permission the run needs.
 */

import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../contracts/platform-config';
import { DeployedIam } from '../../local/deployed-iam';
import { LOCAL_ACCOUNT, LOCAL_BUCKETS, LOCAL_REGION, LocalPlatform } from '../../local/runtime';
import { generateChurn } from '../../local/sample-data';
import { synthesizePlatform } from '../iam/synth';
import { cdkJsonContext } from '../support/cdk';

const config = parseConfig(cdkJsonContext.mlops);
const { assemblyDirectory } = synthesizePlatform();
const stackName = 'mlops-dev';
const local = { account: LOCAL_ACCOUNT, region: LOCAL_REGION, buckets: LOCAL_BUCKETS, registryTable: 'local-registry' };
const iam = DeployedIam.load({ assemblyDirectory, stackName }, local);
const clientConfig = { region: LOCAL_REGION, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

/** A client whose allowed requests are answered in-process after the guard ran. */
function answeredOffline<T extends { middlewareStack: { add: (...args: never[]) => unknown } }>(client: T): T {
  (client.middlewareStack.add as (middleware: unknown, options: unknown) => void)(
    () => async () => ({ output: { $metadata: { httpStatusCode: 200 } }, response: {} }),
    { step: 'build', name: 'answerOffline' },
  );
  return client;
}

/** The substitutions the runtime builds its local state machine with (names as LocalPlatform.machine makes them). */
const localSubstitutions = {
  ValidateDataFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:validate-data`,
  TrainingRoleArn: `arn:aws:iam::${LOCAL_ACCOUNT}:role/local-training`,
  ArtifactsBucket: LOCAL_BUCKETS.artifacts,
  ArtifactsKeyArn: `arn:aws:kms:${LOCAL_REGION}:${LOCAL_ACCOUNT}:key/00000000-0000-0000-0000-000000000000`,
  JobNamePrefix: 'local-churn',
};

describe('DeployedIam: calls checked as the deployed roles', () => {
  it("lets validate-data read the datasets and write splits, and refuses it the capture bucket (its role's grants)", async () => {
    const s3 = iam.guardFunctionClient(answeredOffline(new S3Client(clientConfig)), 'validate-data');
    await expect(
      s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.datasets, Key: 'churn/2026-11-01/part-0.csv' })),
    ).resolves.toBeDefined();
    await expect(
      s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.artifacts, Key: 'splits/churn/run-1/train/part-all-00000.csv', Body: 'a' })),
    ).resolves.toBeDefined();
    await expect(
      s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.capture, Key: 'churn/serverless/x.jsonl', Body: 'a' })),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(
        /is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::mlops-dev-artifactstorecapture/i,
      ),
    });
  });

  it("lets the predict function read the registry and refuses it writes to it (the table's deployed name, the model's own function)", async () => {
    const documents = iam.guardFunctionClient(
      answeredOffline(DynamoDBDocumentClient.from(new DynamoDBClient(clientConfig))),
      'predict',
      'churn',
    );
    await expect(
      documents.send(new GetCommand({ TableName: 'local-registry', Key: { PK: 'MODEL#churn', SK: 'META' } })),
    ).resolves.toBeDefined();
    await expect(
      documents.send(new PutCommand({ TableName: 'local-registry', Item: { PK: 'MODEL#churn', SK: 'META', productionVersion: 9 } })),
    ).rejects.toMatchObject({ name: 'AccessDeniedException', message: expect.stringContaining('dynamodb:PutItem') });
  });

  it('checks a training task as the pipeline role and the training role, with the deployed job name, role and key', async () => {
    const request = {
      TrainingJobName: 'local-churn-3f2a9c1e-8b7d-4c6e-9f0a-1b2c3d4e5f60',
      RoleArn: localSubstitutions.TrainingRoleArn,
      AlgorithmSpecification: {
        TrainingImage: '763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.6.0',
        TrainingInputMode: 'File',
      },
      InputDataConfig: [
        {
          ChannelName: 'train',
          DataSource: { S3DataSource: { S3DataType: 'S3Prefix', S3Uri: 's3://local-artifacts/splits/churn/run-1/train/' } },
        },
      ],
      OutputDataConfig: { S3OutputPath: 's3://local-artifacts/models/churn/', KmsKeyId: localSubstitutions.ArtifactsKeyArn },
      ResourceConfig: { InstanceType: 'ml.g5.xlarge', InstanceCount: 1, VolumeSizeInGB: 50 },
      CheckpointConfig: { S3Uri: 's3://local-artifacts/checkpoints/churn/run-1/' },
    };
    await expect(iam.checkTask('churn', localSubstitutions, 'TrainOnSpot', request)).resolves.toBeUndefined();
    // The training role reads its model's splits only: another model's are refused, naming the state and the role's session.
    const foreign = {
      ...request,
      InputDataConfig: [
        { ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://local-artifacts/splits/fraud/run-1/train/' } } },
      ],
    };
    await expect(iam.checkTask('churn', localSubstitutions, 'TrainOnSpot', foreign)).rejects.toMatchObject({
      message: expect.stringMatching(/^TrainOnSpot .*not authorized to perform: s3:(ListBucket|GetObject)/),
    });
    // Reading the datasets bucket directly is not the training role's business either.
    const datasets = {
      ...request,
      InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://local-datasets/churn/2026-11-01/' } } }],
    };
    await expect(iam.checkTask('churn', localSubstitutions, 'TrainOnSpot', datasets)).rejects.toThrow(/not authorized/);
  });

  it("lets batch-score read its model's datasets only: an input elsewhere is refused with AWS's AccessDenied naming the action and resource", async () => {
    const s3 = iam.guardFunctionClient(answeredOffline(new S3Client(clientConfig)), 'batch-score', 'churn');
    await expect(
      s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.datasets, Key: 'churn/batch/2026-11-30/part-0.csv' })),
    ).resolves.toBeDefined();
    await expect(
      s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.artifacts, Key: 'batch/churn/2026-11-30/part-0.scored.csv', Body: 'a' })),
    ).resolves.toBeDefined();
    await expect(s3.send(new GetObjectCommand({ Bucket: LOCAL_BUCKETS.datasets, Key: 'fraud/customers.csv' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      message: expect.stringMatching(
        /not authorized to perform: s3:GetObject on resource: arn:aws:s3:::mlops-dev-artifactstoredatasets[^ ]*\/fraud\/customers\.csv/i,
      ),
    });
    await expect(
      s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKETS.artifacts, Key: 'models/churn/v1/model.tar.gz', Body: 'a' })),
    ).rejects.toMatchObject({ name: 'AccessDenied', message: expect.stringContaining('s3:PutObject') });
  });

  it("checks the batch pipeline's tasks as the batch state machine's role, not the training pipeline's", async () => {
    const batchSubstitutions = {
      BatchScoreFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:batch-score-churn`,
      CheckDriftFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:check-drift-churn`,
      CaptureBucket: LOCAL_BUCKETS.capture,
    };
    const score = { FunctionName: batchSubstitutions.BatchScoreFunctionArn, Payload: {} };
    await expect(iam.checkTask('churn', batchSubstitutions, 'ListInputs', score, 'batch')).resolves.toBeUndefined();
    await expect(iam.checkTask('churn', batchSubstitutions, 'ScoreObject', score, 'batch')).resolves.toBeUndefined();
    const drift = { FunctionName: batchSubstitutions.CheckDriftFunctionArn, Payload: {} };
    await expect(iam.checkTask('churn', batchSubstitutions, 'CheckDrift', drift, 'batch')).resolves.toBeUndefined();
    // The batch role may not invoke the training pipeline's validation function; the training pipeline has no batch states.
    await expect(
      iam.checkTask(
        'churn',
        batchSubstitutions,
        'ListInputs',
        { FunctionName: localSubstitutions.ValidateDataFunctionArn, Payload: {} },
        'batch',
      ),
    ).rejects.toThrow(/not authorized to perform: lambda:InvokeFunction/);
    await expect(iam.checkTask('churn', localSubstitutions, 'ListInputs', score)).rejects.toThrow(
      /training pipeline has no Task state "ListInputs"/,
    );
  });

  it('lets the pipeline invoke its own functions and nothing else', async () => {
    const payload = { FunctionName: localSubstitutions.ValidateDataFunctionArn, Payload: {} };
    await expect(iam.checkTask('churn', localSubstitutions, 'ValidateDataset', payload)).resolves.toBeUndefined();
    const other = { FunctionName: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:someone-elses`, Payload: {} };
    await expect(iam.checkTask('churn', localSubstitutions, 'ValidateDataset', other)).rejects.toThrow(
      /not authorized to perform: lambda:InvokeFunction on resource: .*someone-elses/,
    );
  });
});

describe('the offline runtime under the deployed IAM', () => {
  let platform: LocalPlatform | undefined;
  let crippled: string;

  beforeAll(() => {
    // The same assembly with the validation function's write to the artifacts bucket taken away.
    crippled = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-crippled-'));
    cpSync(assemblyDirectory, crippled, { recursive: true });
    const file = path.join(crippled, `${stackName}.template.json`);
    const template = JSON.parse(readFileSync(file, 'utf8'));
    const fn = Object.entries(template.Resources as Record<string, any>).find(
      ([, resource]) =>
        resource.Type === 'AWS::Lambda::Function' &&
        resource.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME === 'validate-data',
    )!;
    const roleId = fn[1].Properties.Role['Fn::GetAtt'][0];
    for (const resource of Object.values(template.Resources as Record<string, any>)) {
      if (resource.Type !== 'AWS::IAM::Policy' || !resource.Properties.Roles.some((role: any) => role.Ref === roleId)) continue;
      for (const statement of resource.Properties.PolicyDocument.Statement) {
        const actions = [statement.Action].flat();
        statement.Action = actions.filter((action: string) => action !== 's3:PutObject');
        if (statement.Action.length === 0) statement.Action = 'sts:GetCallerIdentity';
      }
    }
    writeFileSync(file, JSON.stringify(template));
  });
  afterAll(async () => {
    await platform?.stop();
    rmSync(crippled, { recursive: true, force: true });
  });

  it("fails a training run whose validation function may not write its report, with AWS's error in the cause", async () => {
    platform = await LocalPlatform.start({ config, deployed: { assemblyDirectory: crippled, stackName } });
    const rows = generateChurn({ rows: 600, seed: 5 });
    const columns = Object.keys(rows[0]!);
    const csv = `${columns.join(',')}\n${rows.map((row) => columns.map((column) => String(row[column as keyof typeof row])).join(',')).join('\n')}\n`;
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/iam/data.csv', csv, 'text/csv');
    const execution = platform.startTraining('churn', { model: 'churn', datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/iam/data.csv` });
    const result = await execution.done;
    expect(result.status).toBe('FAILED');
    expect(`${result.error} ${result.cause}`).toMatch(
      /not authorized to perform: s3:PutObject on resource: arn:aws:s3:::mlops-dev-artifactstoreartifacts/i,
    );
  }, 120_000);
});
