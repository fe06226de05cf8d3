/**
 * The batch inference pipeline's ASL, executed offline on aws-local-stepfunctions with the real
 * batch-score code (BatchJob: the churn ONNX model through OnnxScorer, an in-memory registry and
 * object store) behind its Lambda states and a drift double: scored objects with row id, version
 * and prediction; failures listed and tolerated up to the threshold, else the run fails with the
 * manifest written; the version asked for or production; bad input refused before any work.
 */
import aslValidator from 'asl-validator';
import { beforeEach, describe, expect, it } from 'vitest';
import { batchRequestSchema, readBatchDefinition } from '../../contracts/batch-inference';
import { placeholdersOf, renderDefinition } from '../../contracts/state-machines';
import { BATCH_PRICES } from '../../lambdas/batch-score/batch-job';
import { churnRows } from '../../testkit/churn-model';
import { BATCH_SUBSTITUTIONS, BatchPipelineHarness, csvOf, type MemoryObjects } from '../support/batch-pipeline-harness';

describe('statemachines/batch-inference.asl.json', () => {
  it('is valid Amazon States Language once its placeholders are filled, and valid JSON before', () => {
    const definition = readBatchDefinition();
    expect(placeholdersOf(definition)).toEqual(Object.keys(BATCH_SUBSTITUTIONS).sort());
    const { isValid, errorsText } = aslValidator(JSON.parse(renderDefinition(definition, BATCH_SUBSTITUTIONS)));
    expect(isValid, errorsText('\n')).toBe(true);
  });

  it('scores up to 100 input objects at a time (docs/pipeline.md)', () => {
    expect(JSON.parse(readBatchDefinition()).States.ScoreObjects).toMatchObject({ Type: 'Map', MaxConcurrency: 100 });
  });
});

describe('the batch inference pipeline, executed offline', () => {
  let harness: BatchPipelineHarness;
  let objects: MemoryObjects;

  beforeEach(async () => {
    harness = await new BatchPipelineHarness().registerVersions();
    objects = harness.objects;
  });
  const run = (input: Record<string, unknown>, name?: string) => harness.run(input, name);

  it('scores every object under a prefix with the production version, writes the output and manifest beside it, and checks drift', async () => {
    await objects.put('datasets', 'churn/weekly/2026-11-30/part-1.csv', csvOf(churnRows(120, 1), 'a'));
    await objects.put('datasets', 'churn/weekly/2026-11-30/part-2.csv', csvOf(churnRows(80, 2), 'b'));
    const result = await run({
      model: 'churn',
      inputUri: 's3://datasets/churn/weekly/2026-11-30/',
      outputUri: 's3://artifacts/batch/churn/scores/2026-11-30/',
      rowIdColumn: 'customer_id',
    });
    expect(result.status).toBe('SUCCEEDED');
    const summary = result.output!;
    expect(summary).toMatchObject({
      version: 2,
      objects: 2,
      rows: 200,
      scoredRows: 200,
      failedRows: 0,
      manifestUri: 's3://artifacts/batch/churn/scores/2026-11-30/_manifest.json',
    });
    const scored = objects.objects.get('artifacts/batch/churn/scores/2026-11-30/part-1.scored.csv')!.trim().split('\n');
    expect(scored[0]).toBe('row_id,model_version,prediction,probability_0,probability_1');
    expect(scored).toHaveLength(121);
    expect(scored[1]).toMatch(/^a-0,2,[01],[\d.e-]+,[\d.e-]+$/);
    expect(JSON.parse(objects.objects.get('artifacts/batch/churn/scores/2026-11-30/_manifest.json')!)).toEqual(summary);
    // Drift: the run's capture records, read by check-drift over their prefix; the verdict is in the manifest.
    expect(harness.driftCalls).toEqual([{ model: 'churn', captureUri: 's3://capture/churn/batch/batch-1/' }]);
    expect(summary.drift).toEqual({ result: { status: 'no-drift', model: 'churn' } });
    expect((await objects.list('capture', 'churn/batch/batch-1/')).map((object) => object.key)).toEqual([
      'churn/batch/batch-1/part-1.jsonl',
      'churn/batch/batch-1/part-2.jsonl',
    ]);
    // Cost: 9 Standard transitions plus one per child the Distributed Map starts, the objects' scoring time at 2 GB, two Express children.
    expect(harness.scoringMs).toBeGreaterThan(0);
    expect(summary.cost).toMatchObject({ transitions: 11, lambdaGbSeconds: (harness.scoringMs / 1000) * 2, expressRequests: 2 });
    // At pipeline.md's prices: $0.025 per 1,000 transitions, $0.0000133334 per GB-s, $0.20 per million Lambda
    // requests (two objects, ListInputs and Summarize), $1.00 per million Express requests; to the millionth.
    const dollars = 11 * (0.025 / 1000) + (harness.scoringMs / 1000) * 2 * 0.0000133334 + 4 * (0.2 / 1e6) + 2 * (1 / 1e6);
    expect(summary.cost.dollars).toBe(Math.round(dollars * 1e6) / 1e6);
    expect(BATCH_PRICES).toMatchObject({
      standardTransition: 0.025 / 1000,
      lambdaGbSecond: 0.0000133334,
      lambdaRequest: 0.2 / 1e6,
      expressRequest: 1 / 1e6,
    });
  });

  it('tolerates failed rows up to maxFailedPercent (1% by default) and lists them; above it the run fails with the manifest written', async () => {
    await objects.put('datasets', 'churn/in.csv', csvOf(churnRows(100, 3), 'c', [4, 50]));
    const tolerated = await run({
      model: 'churn',
      inputUri: 's3://datasets/churn/in.csv',
      outputUri: 's3://artifacts/batch/churn/ok/',
      rowIdColumn: 'customer_id',
      maxFailedPercent: 2,
      format: 'jsonl',
    });
    expect(tolerated.status).toBe('SUCCEEDED');
    expect(tolerated.output).toMatchObject({ rows: 100, scoredRows: 98, failedRows: 2, failedPercent: 2 });
    expect(tolerated.output!.failures.map((failure) => [failure.key, failure.rowId])).toEqual([
      ['churn/in.csv', 'c-4'],
      ['churn/in.csv', 'c-50'],
    ]);
    expect(tolerated.output!.failures[0]!.error).toContain('contract');
    const lines = objects.objects
      .get('artifacts/batch/churn/ok/in.scored.jsonl')!
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(98);
    expect(lines[0]).toMatchObject({ rowId: 'c-0', modelVersion: 2, prediction: expect.any(Number) });

    const failed = await run(
      {
        model: 'churn',
        inputUri: 's3://datasets/churn/in.csv',
        outputUri: 's3://artifacts/batch/churn/strict/',
        rowIdColumn: 'customer_id',
      },
      'batch-2',
    );
    expect(failed.status).toBe('FAILED');
    expect(failed.error).toBe('BatchFailuresExceeded');
    expect(JSON.parse(objects.objects.get('artifacts/batch/churn/strict/_manifest.json')!)).toMatchObject({
      failedRows: 2,
      maxFailedPercent: 1,
    });
  });

  it('lists the first 100 failed rows in the manifest and counts them all', async () => {
    const broken = Array.from({ length: 150 }, (_, index) => index);
    await objects.put('datasets', 'churn/bad.csv', csvOf(churnRows(200, 5), 'b', broken));
    const tolerant = await run(
      { model: 'churn', inputUri: 's3://datasets/churn/bad.csv', outputUri: 's3://artifacts/batch/churn/bad/', maxFailedPercent: 100 },
      'batch-bad',
    );
    expect(tolerant.status).toBe('SUCCEEDED');
    const manifest = JSON.parse(objects.objects.get('artifacts/batch/churn/bad/_manifest.json')!);
    expect(manifest).toMatchObject({ rows: 200, scoredRows: 50, failedRows: 150 });
    expect(manifest.failures).toHaveLength(100);
    expect(manifest.failures.at(-1).rowId).toBe('100');
  });

  it('scores with the version asked for, refuses a Rejected one, and goes on when the drift check fails', async () => {
    await objects.put('datasets', 'churn/in.csv', csvOf(churnRows(10, 4), 'd'));
    harness.driftFails = true;
    const pinned = await run({
      model: 'churn',
      inputUri: 's3://datasets/churn/in.csv',
      outputUri: 's3://artifacts/batch/churn/v1/',
      version: 1,
    });
    expect(pinned.status).toBe('SUCCEEDED');
    expect(pinned.output).toMatchObject({ version: 1, scoredRows: 10 });
    expect(pinned.output!.drift).toMatchObject({ Error: 'NotFoundError' });
    const rejected = await run(
      { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: 's3://artifacts/batch/churn/v3/', version: 3 },
      'batch-3',
    );
    expect(rejected).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
  });

  it("refuses an input outside the datasets bucket's <model>/ and an output outside the artifacts bucket's batch/<model>/, naming the allowed location", async () => {
    await objects.put('datasets', 'fraud/in.csv', csvOf(churnRows(10, 5), 'e'));
    await objects.put('datasets', 'churn/in.csv', csvOf(churnRows(10, 5), 'e'));
    const foreignInput = await run({ model: 'churn', inputUri: 's3://datasets/fraud/in.csv', outputUri: 's3://artifacts/batch/churn/x/' });
    expect(foreignInput).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(foreignInput.cause).toContain('inputUri must be under s3://datasets/churn/');
    const foreignOutput = await run(
      { model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: 's3://artifacts/batch/fraud/x/' },
      'batch-2',
    );
    expect(foreignOutput).toMatchObject({ status: 'FAILED', error: 'ValidationError' });
    expect(foreignOutput.cause).toContain('outputUri must be under s3://artifacts/batch/churn/');
    // Refused at the list step: nothing was scored or written.
    expect([...objects.objects.keys()].filter((key) => !key.startsWith('datasets/'))).toEqual([]);
  });

  it('refuses bad input before any work: a missing or non-prefix output, another model', async () => {
    const calls = () => objects.objects.size;
    expect(
      await run({ model: 'churn', inputUri: 's3://datasets/churn/in.csv', outputUri: 's3://artifacts/batch/churn/file.csv' }),
    ).toMatchObject({
      status: 'FAILED',
      error: 'InvalidInput',
    });
    expect(await run({ model: 'fraud', inputUri: 's3://datasets/churn/in.csv', outputUri: 's3://artifacts/batch/churn/x/' })).toMatchObject(
      {
        status: 'FAILED',
        error: 'UnknownModel',
      },
    );
    expect(calls()).toBe(0);
    expect(
      batchRequestSchema.safeParse({
        model: 'churn',
        inputUri: 's3://datasets/churn/in.csv',
        outputUri: 's3://artifacts/batch/churn/file.csv',
      }).success,
    ).toBe(false);
  });
});
