/**
 * The batch request has two forms: the zod schema the CLI, the offline runtime and the
 * batch-score function read (contracts/batch-inference.ts), and the JSON schema API Gateway
 * validates POST /pipelines/batch with (contracts/api.ts). Both must accept and refuse the same
 * bodies, at the limits docs/api.md states: URIs of at most 1,024 characters, an output prefix
 * ending in /, 0–100% failed rows, a row id column of at most 128 characters, csv/jsonl/parquet.
 */
import { Ajv } from 'ajv';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { batchRequestJsonSchema } from '../../contracts/api';
import { BATCH_FORMATS, batchRequestSchema } from '../../contracts/batch-inference';

const validateJson = new Ajv({ allErrors: true, strict: false }).compile(batchRequestJsonSchema(['churn']));
const verdicts = (body: unknown) => ({ zod: batchRequestSchema.safeParse(body).success, json: validateJson(body) });

const base = { model: 'churn', inputUri: 's3://datasets/churn/batch/w1/', outputUri: 's3://artifacts/batch/churn/w1/' };
const uriOfLength = (length: number, suffix: string) =>
  `s3://artifacts/${'k'.repeat(length - 's3://artifacts/'.length - suffix.length)}${suffix}`;

describe('the batch request, as zod and as API Gateway read it', () => {
  it.each([
    ['the minimal request', base, true],
    ['every option', { ...base, version: 3, format: 'parquet', rowIdColumn: 'customer_id', maxFailedPercent: 0.5 }, true],
    ['one input object', { ...base, inputUri: 's3://datasets/churn/batch/w1/part-0.csv' }, true],
    ['an output that is not a prefix', { ...base, outputUri: 's3://artifacts/batch/churn/w1' }, false],
    ['an output at the bucket root', { ...base, outputUri: 's3://artifacts/' }, false],
    ['an input that is not an S3 URI', { ...base, inputUri: '/tmp/rows.csv' }, false],
    ['an input URI of 1,024 characters', { ...base, inputUri: uriOfLength(1024, '.csv') }, true],
    ['an input URI of 1,025 characters', { ...base, inputUri: uriOfLength(1025, '.csv') }, false],
    ['an output URI of 1,024 characters', { ...base, outputUri: uriOfLength(1024, '/') }, true],
    ['an output URI of 1,025 characters', { ...base, outputUri: uriOfLength(1025, '/') }, false],
    ['0% failed rows', { ...base, maxFailedPercent: 0 }, true],
    ['100% failed rows', { ...base, maxFailedPercent: 100 }, true],
    ['over 100% failed rows', { ...base, maxFailedPercent: 100.5 }, false],
    ['negative failed rows', { ...base, maxFailedPercent: -1 }, false],
    ['a row id column of 128 characters', { ...base, rowIdColumn: 'c'.repeat(128) }, true],
    ['a row id column of 129 characters', { ...base, rowIdColumn: 'c'.repeat(129) }, false],
    ['an empty row id column', { ...base, rowIdColumn: '' }, false],
    ['version 0', { ...base, version: 0 }, false],
    ['a fractional version', { ...base, version: 1.5 }, false],
    ['an unknown format', { ...base, format: 'xml' }, false],
    ['an unknown field', { ...base, dryRun: true }, false],
    ['no output', { model: 'churn', inputUri: base.inputUri }, false],
  ])('%s: accepted = %s by both', (_name, body, accepted) => {
    expect(verdicts(body)).toEqual({ zod: accepted, json: accepted });
  });

  it('offers the same output formats in both forms', () => {
    expect(batchRequestJsonSchema([]).properties?.format?.enum).toEqual([...BATCH_FORMATS]);
    expect(BATCH_FORMATS).toEqual(['csv', 'jsonl', 'parquet']);
  });

  it('agrees on any output URI and failed-row share', () => {
    const uri = fc.oneof(
      fc.string(),
      fc.tuple(fc.stringMatching(/^[a-z0-9.-]{1,70}$/), fc.string({ maxLength: 40 })).map(([bucket, key]) => `s3://${bucket}/${key}`),
    );
    fc.assert(
      fc.property(uri, fc.double({ min: -10, max: 110, noNaN: true }), (outputUri, maxFailedPercent) => {
        const { zod, json } = verdicts({ ...base, outputUri, maxFailedPercent });
        expect(zod).toBe(json);
      }),
    );
  });

  it('names the models with a deployed pipeline as the only allowed ones for API Gateway', () => {
    expect(validateJson({ ...base, model: 'fraud' })).toBe(false);
    expect(batchRequestJsonSchema([]).properties?.model?.enum).toBeUndefined();
  });
});
