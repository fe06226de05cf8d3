import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import type * as Ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { S3ObjectStore } from '../../lambdas/shared/s3-object-store';
import { extractModelFile } from '../../lambdas/shared/serving/model-artifact';
import { type RunningS3Local, startS3Local } from '../../local/s3-local';
import { type ChurnCustomer, generateChurn, toCsv } from '../../local/sample-data';
import { LocalTrainer, parseHyperparameters, type TrainingJobRequest } from '../../local/trainer';
import { cdkJsonContext } from '../support/cdk';

const ort = createRequire(import.meta.url)('onnxruntime-node') as typeof Ort;
const config = parseConfig(cdkJsonContext.mlops);
const churn = modelDocument(resolveModel(config, config.models[0]!));
const SEGMENTS = ['consumer', 'small-business', 'enterprise'];
const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];

const encode = (c: ChurnCustomer) => [
  c.tenure_months,
  c.monthly_charges,
  c.total_spend,
  c.support_calls,
  SEGMENTS.indexOf(c.segment),
  CONTRACTS.indexOf(c.contract),
];

function job(name: string, extra: Partial<TrainingJobRequest> = {}): TrainingJobRequest {
  return {
    TrainingJobName: name,
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://datasets/churn/train.csv' } } }],
    OutputDataConfig: { S3OutputPath: 's3://artifacts/models/churn/' },
    CheckpointConfig: { S3Uri: `s3://artifacts/checkpoints/churn/${name}/` },
    EnableManagedSpotTraining: true,
    ...extra,
  };
}

describe('the local trainer', () => {
  let s3: RunningS3Local;
  let store: S3ObjectStore;
  const holdout = generateChurn({ rows: 2000, seed: 7, firstId: 100_000 });

  beforeAll(async () => {
    s3 = await startS3Local({ buckets: ['datasets', 'artifacts'] });
    store = new S3ObjectStore(s3.client());
    await store.put('datasets', 'churn/train.csv', toCsv(generateChurn({ rows: 5000, seed: 3 })), 'text/csv');
  });
  afterAll(async () => s3?.stop());

  async function session(artifactUri: string) {
    const key = artifactUri.replace('s3://artifacts/', '');
    return ort.InferenceSession.create(await extractModelFile(await store.getBytes('artifacts', key)));
  }
  async function score(model: Ort.InferenceSession, rows: number[][]) {
    const output = await model.run({ features: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 6]) });
    return Array.from(output.scores!.data as Float32Array);
  }

  it('trains a logistic model that generalises, written as model.onnx + metrics.json in model.tar.gz', async () => {
    const trainer = new LocalTrainer({ store, model: churn });
    const result = await trainer.runJob(job('job-plain', { EnableManagedSpotTraining: false }));
    expect(result).toMatchObject({
      TrainingJobStatus: 'Completed',
      ModelArtifacts: { S3ModelArtifacts: 's3://artifacts/models/churn/job-plain/output/model.tar.gz' },
      TrainingTimeInSeconds: 600,
      BillableTimeInSeconds: 600,
    });
    const probabilities = await score(await session(result.ModelArtifacts.S3ModelArtifacts), holdout.map(encode));
    const accuracy = holdout.filter((c, i) => (probabilities[i]! >= 0.5 ? 1 : 0) === c.churned).length / holdout.length;
    expect(accuracy).toBeGreaterThan(0.88);
  });

  it('imputes a missing number and ignores an unknown category inside the graph', async () => {
    const result = await new LocalTrainer({ store, model: churn }).runJob(job('job-missing', { EnableManagedSpotTraining: false }));
    const model = await session(result.ModelArtifacts.S3ModelArtifacts);
    const [complete, missing, unknown] = await score(model, [
      [12, 80, 960, 1, 0, 0],
      [12, Number.NaN, 960, 1, 0, 0],
      [12, 80, 960, 1, 0, Number.NaN],
    ]);
    for (const value of [complete, missing, unknown]) expect(value).toBeGreaterThan(0);
    for (const value of [complete, missing, unknown]) expect(value).toBeLessThan(1);
    expect(missing).not.toBe(complete);
    // Month-to-month raises churn; with the contract unknown the probability must drop.
    expect(unknown!).toBeLessThan(complete!);
  });

  it('resumes an interrupted spot job from its checkpoint and bills less than it trained', async () => {
    const events: string[] = [];
    const trainer = new LocalTrainer({ store, model: churn, interruptions: 1, onProgress: (event) => events.push(event.message) });
    const result = await trainer.runJob(job('job-spot'));
    expect(events[0]).toBe('spot capacity reclaimed at epoch 150; resuming from the last checkpoint');
    expect(JSON.parse(await store.getText('artifacts', 'checkpoints/churn/job-spot/checkpoint.json'))).toMatchObject({ epoch: 275 });
    expect(result.BillableTimeInSeconds).toBe(180);
    expect(result.TrainingTimeInSeconds).toBe(600);
    const archive = await store.getBytes('artifacts', 'models/churn/job-spot/output/model.tar.gz');
    // metrics.json travels in the tarball next to model.onnx.
    expect(gunzipSync(archive).toString('latin1')).toMatch(/"resumedFromEpoch": 150/);
  });

  it('pads a model with slow, zero-weighted layers without changing its scores', async () => {
    const trainer = new LocalTrainer({ store, model: churn });
    const plain = await trainer.runJob(job('job-fast', { EnableManagedSpotTraining: false }));
    const padded = await trainer.runJob(
      job('job-slow', { EnableManagedSpotTraining: false, HyperParameters: { latency_padding_layers: '3', latency_padding_width: '64' } }),
    );
    const rows = holdout.slice(0, 50).map(encode);
    const a = await score(await session(plain.ModelArtifacts.S3ModelArtifacts), rows);
    const b = await score(await session(padded.ModelArtifacts.S3ModelArtifacts), rows);
    for (const [index, value] of b.entries()) expect(value).toBeCloseTo(a[index]!, 5);
  });

  it('refuses unknown or malformed hyperparameters by name', () => {
    expect(() => parseHyperparameters({ learningrate: '0.1' })).toThrow('unknown hyperparameter "learningrate"');
    expect(() => parseHyperparameters({ epochs: 'ten' })).toThrow('hyperparameter epochs must be a whole number 1-100000, got "ten"');
    expect(parseHyperparameters({ epochs: '10' })).toMatchObject({ epochs: 10, learningRate: 0.1, latencyPadding: null });
  });

  it('fails a job whose train channel lacks the target column', async () => {
    await store.put('datasets', 'churn/unlabelled.csv', 'customer_id,tenure_months\nC1,3\n', 'text/csv');
    const trainer = new LocalTrainer({ store, model: churn });
    await expect(
      trainer.runJob(
        job('job-bad', {
          InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://datasets/churn/unlabelled.csv' } } }],
        }),
      ),
    ).rejects.toThrow(/churned/);
  });
});
