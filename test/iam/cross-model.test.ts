/**
 * Least privilege between models: with two models configured, each model's validate-data and
 * evaluate-model functions (and its training role) may touch only that model's data and keys. The
 * simulation asks AWS's rules whether one model's functions could write or read the other's.
 */
import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../../contracts/platform-config';
import { iamCallsOfSdkCommand, lambdaFunctions } from '../../local/iam';
import { deniedCalls } from './check';
import { synthesizePlatform } from './synth';

/** cdk.json's configuration with a second model, "fraud", shaped like the first. */
function withSecondModel(config: PlatformConfigInput): PlatformConfigInput {
  const [first] = config.models;
  return { ...config, models: [first!, { ...structuredClone(first!), name: 'fraud' }] };
}

const { model, outputs } = synthesizePlatform(withSecondModel);
const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
const artifacts = outputs.ArtifactsBucketName!;
const datasets = outputs.DatasetsBucketName!;
const functionOf = (codeFolder: string, modelName: string) => {
  const found = lambdaFunctions(model).find((fn) => fn.codeFolder === codeFolder && fn.environment.MODEL_NAME === modelName);
  if (!found) throw new Error(`no ${codeFolder} function for ${modelName}`);
  return found;
};
const s3 = (command: string, input: Record<string, unknown>) => iamCallsOfSdkCommand('s3', command, input, scope);

describe('two models, one account: each keeps to its own keys', () => {
  it('gives each model its own validate-data and evaluate-model function', () => {
    for (const codeFolder of ['validate-data', 'evaluate-model']) {
      const functions = lambdaFunctions(model).filter((fn) => fn.codeFolder === codeFolder);
      expect(functions.map((fn) => fn.environment.MODEL_NAME).sort(), codeFolder).toEqual(['churn', 'fraud']);
    }
  });

  it("lets churn's validate-data write churn's profiles and splits, and refuses it fraud's", async () => {
    const fn = functionOf('validate-data', 'churn');
    const own = [
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'profiles/churn/run-1/profile.json' }),
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'splits/churn/run-1/train/part-all-00000.csv' }),
      ...s3('GetObjectCommand', { Bucket: datasets, Key: 'churn/2026-11-01/part-0.csv' }),
    ];
    expect(await deniedCalls(model, fn.role, own, fn.functionName)).toEqual([]);
    for (const call of [
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'profiles/fraud/run-1/profile.json' }),
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'splits/fraud/run-1/train/part-all-00000.csv' }),
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'quarantine/fraud/run-1/rows.jsonl' }),
      ...s3('GetObjectCommand', { Bucket: datasets, Key: 'fraud/2026-11-01/part-0.csv' }),
    ].filter((call) => call.action.startsWith('s3:'))) {
      expect((await model.simulate({ role: fn.role, ...call })).allowed, `${call.action} ${call.resource}`).toBe(false);
    }
  });

  it("lets churn's evaluate-model read churn's models and holdout only, and write churn's reports only", async () => {
    const fn = functionOf('evaluate-model', 'churn');
    const own = [
      ...s3('GetObjectCommand', { Bucket: artifacts, Key: 'models/churn/job-1/output/model.tar.gz' }),
      ...s3('GetObjectCommand', { Bucket: artifacts, Key: 'splits/churn/run-1/holdout/part-all-00000.csv' }),
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'reports/churn/run-1/evaluation-report.json' }),
    ];
    expect(await deniedCalls(model, fn.role, own, fn.functionName)).toEqual([]);
    for (const call of [
      ...s3('GetObjectCommand', { Bucket: artifacts, Key: 'models/fraud/job-1/output/model.tar.gz' }),
      ...s3('GetObjectCommand', { Bucket: artifacts, Key: 'splits/fraud/run-1/holdout/part-all-00000.csv' }),
      ...s3('PutObjectCommand', { Bucket: artifacts, Key: 'reports/fraud/run-1/evaluation-report.json' }),
    ].filter((call) => call.action.startsWith('s3:'))) {
      expect((await model.simulate({ role: fn.role, ...call })).allowed, `${call.action} ${call.resource}`).toBe(false);
    }
  });
});
