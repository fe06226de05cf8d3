import { Logger } from '@aws-lambda-powertools/logger';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isDatasetObjectKey } from '../../../contracts/dataset';
import { createRetrainingHandler } from '../../../lambdas/start-retraining/handler';
import {
  droppedVersionOf,
  executionNameForDataset,
  startOnNewData,
  type TrainingRuns,
} from '../../../lambdas/start-retraining/start-retraining';

const settings = { model: 'churn', datasetsBucket: 'datasets', cooldownHours: 24 };
const NOW = Date.parse('2026-05-02T12:00:00Z');

/** A pipeline whose execution names are unique, like Step Functions'. */
class FakeRuns implements TrainingRuns {
  readonly started: { name: string; input: { datasetUri: string } }[] = [];
  constructor(private readonly lastStart?: number) {}
  async newestStart() {
    return this.started.length > 0 ? new Date(NOW) : this.lastStart === undefined ? undefined : new Date(this.lastStart);
  }
  async start(name: string, input: string) {
    if (this.started.some((run) => run.name === name)) return { alreadyExists: true };
    this.started.push({ name, input: JSON.parse(input) });
    return { executionArn: `arn:aws:states:::execution:training:${name}`, alreadyExists: false };
  }
}

const objectCreated = (key: string, bucket = 'datasets') => ({
  version: '0',
  source: 'aws.s3',
  'detail-type': 'Object Created',
  detail: { bucket: { name: bucket }, object: { key, size: 0 }, reason: 'PutObject' },
});

describe('training on new data', () => {
  it('takes a _SUCCESS or manifest.json directly under <model>/<version>/ as a completed dataset version, nothing else', () => {
    const drop = (key: string, bucket = 'datasets') => droppedVersionOf({ bucket, key }, settings);
    expect(drop('churn/v0002/_SUCCESS')).toBe('v0002');
    expect(drop('churn/2026-05-01/manifest.json')).toBe('2026-05-01');
    expect(drop('churn/v0002/part-0.csv')).toBeUndefined();
    expect(drop('churn/v0002/nested/_SUCCESS')).toBeUndefined();
    expect(drop('churn/_SUCCESS')).toBeUndefined();
    // The batch inputs' folder is not a dataset version.
    expect(drop('churn/batch/_SUCCESS')).toBeUndefined();
    // Nor are the offline runtime's uploads.
    expect(drop('churn/uploads/_SUCCESS')).toBeUndefined();
    expect(drop('fraud/v0002/_SUCCESS')).toBeUndefined();
    expect(drop('churn/v0002/_SUCCESS', 'artifacts')).toBeUndefined();
  });

  it('starts one run on the version prefix however many deliveries and markers arrive, concurrently or not', async () => {
    const runs = new FakeRuns();
    const handler = createRetrainingHandler(runs, { keysUnder: async () => [] }, settings, new Logger({ logLevel: 'SILENT' }));
    const events = ['churn/v0002/_SUCCESS', 'churn/v0002/_SUCCESS', 'churn/v0002/manifest.json', 'churn/v0002/_SUCCESS'].map((key) =>
      objectCreated(key),
    );
    const results = await Promise.all(events.map((event) => handler(event)));
    expect(runs.started).toEqual([
      { name: executionNameForDataset('churn', 'v0002'), input: { datasetUri: 's3://datasets/churn/v0002/', model: 'churn' } },
    ]);
    expect(results.filter((result) => result.started)).toHaveLength(1);
    expect(results.filter((result) => !result.started).map((result) => !result.started && result.reason)).toEqual(
      expect.arrayContaining(['already-started']),
    );
  });

  it('holds a new version back within the cool-down, and ignores objects that are not markers', async () => {
    const recent = new FakeRuns(NOW - 3_600_000);
    expect(await startOnNewData(recent, settings, { bucket: 'datasets', key: 'churn/v0003/_SUCCESS' }, NOW)).toMatchObject({
      started: false,
      reason: 'cooldown',
    });
    const idle = new FakeRuns();
    expect(await startOnNewData(idle, settings, { bucket: 'datasets', key: 'churn/v0003/rows.csv' }, NOW)).toMatchObject({
      started: false,
      reason: 'not-a-marker',
    });
    expect(idle.started).toEqual([]);
  });

  it('property: execution names are valid Step Functions names, one per dataset version', () => {
    // size 'max': fast-check 4 otherwise caps a string at 10 characters, never past the 80 a name may hold.
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 200, size: 'max' }),
        fc.string({ minLength: 1, maxLength: 200, size: 'max' }),
        (a, b) => {
          const name = executionNameForDataset('churn', a);
          expect(name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
          expect(executionNameForDataset('churn', a)).toBe(name);
          if (a !== b) expect(executionNameForDataset('churn', b)).not.toBe(name);
        },
      ),
    );
  });

  it('leaves markers and hidden files out of a dataset prefix', () => {
    expect(
      [
        'churn/v2/a.csv',
        'churn/v2/_SUCCESS',
        'churn/v2/manifest.json',
        'churn/v2/.part.crc',
        'churn/v2/_temporary',
        'churn/v2/b.jsonl',
      ].filter(isDatasetObjectKey),
    ).toEqual(['churn/v2/a.csv', 'churn/v2/b.jsonl']);
  });
});
