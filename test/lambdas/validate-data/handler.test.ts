import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../../lambdas/shared/profile/codec';
import { S3ObjectStore } from '../../../lambdas/shared/s3-object-store';
import { validateData as validate } from '../../../lambdas/validate-data/handler';
import type { RunContext, ShardListing, ValidationSummary } from '../../../lambdas/validate-data/validate-data';
import { type RunningS3Local, startS3Local } from '../../../local/s3-local';

/** Every mode but list answers a summary. */
const validateData = async (event: unknown, context: RunContext) => (await validate(event, context)) as ValidationSummary;

const model = {
  name: 'churn',
  target: 'churned',
  columns: [
    { name: 'customer_id', type: 'string', unique: true },
    { name: 'tenure_months', type: 'integer', min: 0, max: 120 },
    { name: 'monthly_charges', type: 'number', min: 0 },
    { name: 'contract', type: 'category', allowedValues: ['month-to-month', 'one-year', 'two-year'] },
    { name: 'churned', type: 'integer', min: 0, max: 1 },
  ],
};
const HEADER = 'customer_id,tenure_months,monthly_charges,contract,churned';
const CONTRACTS = ['month-to-month', 'one-year', 'two-year'];

function cleanRows(count: number, start = 0): string[] {
  return Array.from(
    { length: count },
    (_, index) =>
      `C${start + index},${(start + index) % 100},${((start + index) * 1.37).toFixed(2)},${CONTRACTS[(start + index) % 3]},${(start + index) % 2}`,
  );
}

/** The bad files of the issue, generated here into a fixtures folder and uploaded from it. */
function writeBadFixtures(directory: string): void {
  writeFileSync(path.join(directory, 'empty.csv'), '');
  writeFileSync(path.join(directory, 'header-mismatch.csv'), 'customer_id,tenure,monthly_charges,contract,churned\nC1,1,2,one-year,0\n');
  writeFileSync(path.join(directory, 'semicolons.csv'), `${HEADER.replaceAll(',', ';')}\nC1;1;2;one-year;0\n`);
  writeFileSync(
    path.join(directory, 'latin1.csv'),
    Buffer.concat([Buffer.from(`${HEADER}\nC1,1,2,one-year,0\nC`), Buffer.from([0xe9]), Buffer.from(',1,2,one-year,0\n')]),
  );
  writeFileSync(path.join(directory, 'ragged.csv'), `${HEADER}\n${cleanRows(3).join('\n')}\nC9,1,2\nC10,1,2,one-year,0,extra\n`);
  writeFileSync(
    path.join(directory, 'bad-numbers.csv'),
    `${HEADER}\n${cleanRows(2).join('\n')}\nC7,1,1e400,one-year,0\nC8,1,NaN,one-year,0\nC9,1,,one-year,0\n`,
  );
  writeFileSync(path.join(directory, 'truncated.csv.gz'), gzipSync(`${HEADER}\n${cleanRows(500).join('\n')}\n`).subarray(0, 300));
}

let s3: RunningS3Local;
let client: S3Client;
let context: RunContext;
const fixtures = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-fixtures-'));

async function put(key: string, body: string | Uint8Array): Promise<void> {
  await client.send(new PutObjectCommand({ Bucket: 'datasets', Key: key, Body: body }));
}

async function getText(uri: string): Promise<string> {
  const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return response.Body!.transformToString();
}

beforeAll(async () => {
  s3 = await startS3Local({ buckets: ['datasets', 'artifacts'] });
  client = s3.client();
  context = { store: new S3ObjectStore(client), artifactsBucket: 'artifacts' };
  writeBadFixtures(fixtures);
  for (const name of readdirSync(fixtures)) await put(`bad/${name}`, readFileSync(path.join(fixtures, name)));
});

afterAll(async () => {
  client?.destroy();
  await s3?.stop();
  rmSync(fixtures, { recursive: true, force: true });
});

describe('validate-data handler', () => {
  it('validates a clean CSV and writes its profile and report to the artifact bucket', async () => {
    await put('clean/data.csv', `${HEADER}\n${cleanRows(200).join('\n')}\n`);
    const summary = await validateData({ datasetUri: 's3://datasets/clean/data.csv', model }, context);
    expect(summary).toMatchObject({
      mode: 'single',
      model: 'churn',
      valid: true,
      rowCount: 200,
      badRowCount: 0,
      failedRules: [],
      quarantineUri: null,
    });
    expect(summary.profileUri).toBe(`s3://artifacts/profiles/churn/${summary.runId}/profile.json`);
    expect(summary.datasetEtag).toMatch(/^"[0-9a-f]{32}"$/);
    expect(summary.reportUri).toBe(`s3://artifacts/reports/churn/${summary.runId}/validation-report.json`);
    const profile = parseProfile(await getText(summary.profileUri));
    expect(profile.columns.tenure_months).toMatchObject({ count: 200, min: 0, max: 99 });
    const report = JSON.parse(await getText(summary.reportUri));
    expect(report).toMatchObject({ valid: true, rowCount: 200, objects: 1 });
    expect(JSON.stringify(summary).length).toBeLessThan(256 * 1024);
  });

  it('refuses an event for another model when the function serves one model (its MODEL_NAME), before reading anything', async () => {
    await expect(
      validateData({ datasetUri: 's3://datasets/clean/data.csv', model }, { ...context, modelName: 'fraud' }),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: `this validate-data function serves model "fraud" and may touch only its data; the event names "${model.name}"`,
    });
  });

  it('gives the same run id and outputs when the same event arrives twice', async () => {
    const event = { datasetUri: 's3://datasets/clean/data.csv', model };
    const [first, second] = [await validateData(event, context), await validateData(event, context)];
    expect(second).toEqual(first);
  });

  it('returns a failed validation, not an error, and quarantines the bad rows', async () => {
    const bad = ['C900,130,1,one-year,0', 'C901,1,-5,one-year,0', 'C902,1,2,lifetime,0', 'C0,1,2,one-year,0'];
    await put('bad-rows/data.csv', `${HEADER}\n${[...cleanRows(20), ...bad].join('\n')}\n`);
    const summary = await validateData({ datasetUri: 's3://datasets/bad-rows/data.csv', model }, context);
    expect(summary).toMatchObject({ valid: false, rowCount: 24, badRowCount: 4 });
    expect(summary.failedRules).toEqual([
      { rule: 'unique', column: 'customer_id', violations: 1 },
      { rule: 'max', column: 'tenure_months', violations: 1 },
      { rule: 'min', column: 'monthly_charges', violations: 1 },
      { rule: 'allowedValues', column: 'contract', violations: 1 },
      { rule: 'maxBadRowFraction', violations: 1 },
    ]);
    // The reason the execution's cause carries: the deciding rule, then each broken rule with its count and an example.
    expect(summary.failureReason).toBe(
      [
        'maxBadRowFraction: allows at most 1% bad rows, has 16.67% (4 of 24)',
        'customer_id unique: values must not repeat in 1 row (e.g. row 24: "C0")',
        'tenure_months max: values must be <= 120 in 1 row (e.g. row 21: "130")',
        'monthly_charges min: values must be >= 0 in 1 row (e.g. row 22: "-5")',
        'contract allowedValues: values must be one of "month-to-month", "one-year", "two-year" in 1 row (e.g. row 23: "lifetime")',
      ].join(';\n'),
    );
    const quarantine = (await getText(summary.quarantineUri!))
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(quarantine).toEqual([
      { object: 'bad-rows/data.csv', row: 21, reasons: ['tenure_months: max'], text: 'C900,130,1,one-year,0' },
      { object: 'bad-rows/data.csv', row: 22, reasons: ['monthly_charges: min'], text: 'C901,1,-5,one-year,0' },
      { object: 'bad-rows/data.csv', row: 23, reasons: ['contract: allowedValues'], text: 'C902,1,2,lifetime,0' },
      { object: 'bad-rows/data.csv', row: 24, reasons: ['customer_id: unique'], text: 'C0,1,2,one-year,0' },
    ]);
    const report = JSON.parse(await getText(summary.reportUri));
    expect(
      report.rules.find((rule: { rule: string; column?: string }) => rule.rule === 'max' && rule.column === 'tenure_months'),
    ).toMatchObject({
      passed: false,
      violations: 1,
      examples: [{ object: 'bad-rows/data.csv', row: 21, value: '130' }],
    });
  });

  it('validates every object of a prefix: CSV, gzip JSON Lines and Parquet together', async () => {
    await put('mixed/part-1.csv', `${HEADER}\n${cleanRows(10).join('\n')}\n`);
    const jsonLines = cleanRows(10, 10).map((row) => {
      const [id, tenure, charges, contract, churned] = row.split(',');
      return JSON.stringify({
        customer_id: id,
        tenure_months: Number(tenure),
        monthly_charges: Number(charges),
        contract,
        churned: Number(churned),
      });
    });
    await put('mixed/part-2.jsonl.gz', gzipSync(`${jsonLines.join('\n')}\n`));
    const rows = cleanRows(10, 20).map((row) => row.split(','));
    const parquet = parquetWriteBuffer({
      columnData: [
        { name: 'customer_id', data: rows.map((row) => row[0]), type: 'STRING' },
        { name: 'tenure_months', data: Int32Array.from(rows.map((row) => Number(row[1]))), type: 'INT32' },
        { name: 'monthly_charges', data: Float64Array.from(rows.map((row) => Number(row[2]))), type: 'DOUBLE' },
        { name: 'contract', data: rows.map((row) => row[3]), type: 'STRING' },
        { name: 'churned', data: Int32Array.from(rows.map((row) => Number(row[4]))), type: 'INT32' },
      ],
    });
    await put('mixed/part-3.parquet', new Uint8Array(parquet));
    const summary = await validateData({ datasetUri: 's3://datasets/mixed/', model }, context);
    expect(summary).toMatchObject({ valid: true, rowCount: 30, badRowCount: 0 });
    const profile = parseProfile(await getText(summary.profileUri));
    expect(profile.columns.customer_id).toMatchObject({ count: 30 });
    expect(JSON.parse(await getText(summary.reportUri))).toMatchObject({ objects: 3 });
  });

  it('lists a prefix for the Distributed Map and fixes the shared bin edges from its first object', async () => {
    await put('listed/2026-11/a.csv', `${HEADER}\n${cleanRows(80).join('\n')}\n`);
    await put('listed/2026-11/b.csv', `${HEADER}\n${cleanRows(40, 500).join('\n')}\n`);
    const listing = (await validate(
      { datasetUri: 's3://datasets/listed/2026-11/', model, mode: 'list', runId: 'execution-9' },
      context,
    )) as ShardListing;
    expect(listing).toMatchObject({
      mode: 'list',
      shards: ['a.csv', 'b.csv'],
      referenceProfileUri: 's3://artifacts/profiles/churn/execution-9/edges.profile.json',
    });
    expect(listing.datasetEtag).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(parseProfile(await getText(listing.referenceProfileUri)).rowCount).toBe(80);
    // Shards binned on those edges merge; the merge sees the same dataset ETag as the listing.
    for (const key of listing.shards) {
      await validateData(
        {
          datasetUri: `s3://datasets/listed/2026-11/${key}`,
          model,
          mode: 'shard',
          runId: 'execution-9',
          referenceProfileUri: listing.referenceProfileUri,
        },
        context,
      );
    }
    const merged = await validateData({ datasetUri: 's3://datasets/listed/2026-11/', model, mode: 'merge', runId: 'execution-9' }, context);
    expect(merged).toMatchObject({ valid: true, rowCount: 120, datasetEtag: listing.datasetEtag });
    await expect(
      validate({ datasetUri: 's3://datasets/listed/2026-11/a.csv', model, mode: 'list', runId: 'execution-9' }, context),
    ).rejects.toThrow(/list mode takes a prefix ending in "\/"/);
    await expect(validate({ datasetUri: 's3://datasets/listed/none/', model, mode: 'list', runId: 'x' }, context)).rejects.toMatchObject({
      name: 'NotFoundError',
    });
  });

  it('profiles shards against a reference and merges them into the profile of the whole', async () => {
    await put('sharded/reference.csv', `${HEADER}\n${cleanRows(300).join('\n')}\n`);
    const reference = await validateData({ datasetUri: 's3://datasets/sharded/reference.csv', model }, context);
    await put('sharded/new/a.csv', `${HEADER}\n${cleanRows(100, 1000).join('\n')}\n`);
    await put('sharded/new/b.csv', `${HEADER}\n${cleanRows(50, 2000).join('\n')}\nC5,1,2,one-year,7\n`);
    const shardEvent = (key: string) => ({
      datasetUri: `s3://datasets/sharded/new/${key}`,
      model,
      mode: 'shard',
      runId: 'execution-1',
      referenceProfileUri: reference.profileUri,
    });
    const shards = await Promise.all(['a.csv', 'b.csv'].map((key) => validateData(shardEvent(key), context)));
    expect(shards.map((shard) => shard.rowCount)).toEqual([100, 51]);
    expect(shards[0]!.profileUri).toMatch(/^s3:\/\/artifacts\/profiles\/churn\/execution-1\/shards\/[0-9a-f]{16}\.profile\.json$/);
    const merged = await validateData({ datasetUri: 's3://datasets/sharded/new/', model, mode: 'merge', runId: 'execution-1' }, context);
    expect(merged.datasetEtag).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(merged).toMatchObject({
      mode: 'merge',
      valid: true,
      rowCount: 151,
      badRowCount: 1,
      failedRules: [{ rule: 'max', column: 'churned', violations: 1 }],
    });
    expect(merged.quarantineUri).toBe('s3://artifacts/quarantine/churn/execution-1/shards/');
    const profile = parseProfile(await getText(merged.profileUri));
    const referenceProfile = parseProfile(await getText(reference.profileUri));
    const charges = profile.columns.monthly_charges!;
    const referenceCharges = referenceProfile.columns.monthly_charges!;
    if (charges.kind !== 'numeric' || referenceCharges.kind !== 'numeric') throw new Error('expected numeric profiles');
    expect(charges.histogram.edges).toEqual(referenceCharges.histogram.edges);
    expect(charges.histogram.counts.reduce((a, b) => a + b, 0)).toBe(151);
  });

  describe('bad input', () => {
    const run = (key: string, extra: Record<string, unknown> = {}) =>
      validateData({ datasetUri: `s3://datasets/${key}`, model, ...extra }, context);

    it('names a missing object', async () => {
      await expect(run('nowhere/data.csv')).rejects.toMatchObject({
        name: 'NotFoundError',
        message: 'object s3://datasets/nowhere/data.csv does not exist',
      });
      await expect(run('nowhere/')).rejects.toMatchObject({
        name: 'NotFoundError',
        message: 'no dataset objects under s3://datasets/nowhere/',
      });
    });

    it('refuses an empty file', async () => {
      await expect(run('bad/empty.csv')).rejects.toMatchObject({
        name: 'DatasetFormatError',
        message: 'empty file: the dataset object has no header row',
      });
    });

    it('refuses a header mismatch, naming the missing column', async () => {
      await expect(run('bad/header-mismatch.csv')).rejects.toMatchObject({
        name: 'DatasetFormatError',
        message: expect.stringMatching(/^header mismatch: missing column "tenure_months"/),
      });
    });

    it('names the delimiter a file really uses', async () => {
      await expect(run('bad/semicolons.csv')).rejects.toThrow(/^wrong delimiter: .* contains ";"/);
      await expect(run('bad/semicolons.csv', { delimiter: ';' })).resolves.toMatchObject({ valid: true, rowCount: 1 });
    });

    it("reads with the model's dataset.delimiter, unless the run sets its own (null: the model's)", async () => {
      const semicolonModel = { ...model, dataset: { delimiter: ';' } };
      const event = { datasetUri: 's3://datasets/bad/semicolons.csv', model: semicolonModel };
      await expect(validateData(event, context)).resolves.toMatchObject({ valid: true, rowCount: 1 });
      await expect(validateData({ ...event, delimiter: null }, context)).resolves.toMatchObject({ valid: true, rowCount: 1 });
      await expect(validateData({ ...event, delimiter: ',' }, context)).rejects.toThrow(
        /^wrong delimiter: .*set the dataset's delimiter to ";"/,
      );
      await expect(validateData({ ...event, delimiter: '"' }, context)).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringContaining('delimiter: must be one ASCII character other than a quote or a line break'),
      });
    });

    it('refuses bytes that are not UTF-8, naming the row', async () => {
      await expect(run('bad/latin1.csv')).rejects.toMatchObject({
        name: 'DatasetFormatError',
        message: expect.stringMatching(/^row 2 is not valid UTF-8/),
      });
    });

    it('quarantines ragged rows instead of dropping them', async () => {
      const summary = await run('bad/ragged.csv', { runId: 'ragged' });
      expect(summary).toMatchObject({ valid: false, rowCount: 5, badRowCount: 2 });
      expect((await getText(summary.quarantineUri!)).trim().split('\n')).toHaveLength(2);
    });

    it('counts 1e400 and NaN as type violations and an empty number as a null', async () => {
      const summary = await run('bad/bad-numbers.csv');
      expect(summary.failedRules).toEqual([
        { rule: 'type', column: 'monthly_charges', violations: 2 },
        { rule: 'nullable', column: 'monthly_charges', violations: 1 },
        { rule: 'maxBadRowFraction', violations: 1 },
      ]);
    });

    it('refuses a truncated gzip stream', async () => {
      await expect(run('bad/truncated.csv.gz')).rejects.toMatchObject({
        name: 'DatasetFormatError',
        message: expect.stringMatching(/gzip stream is corrupt or truncated/),
      });
    });

    it('refuses a schema that does not parse, naming the field', async () => {
      const broken = { ...model, columns: [{ name: 'customer_id', type: 'text' }] };
      await expect(validateData({ datasetUri: 's3://datasets/clean/data.csv', model: broken }, context)).rejects.toMatchObject({
        name: 'ValidationError',
        message: expect.stringMatching(/^the dataset schema does not parse: model\.columns\.0\.type: Invalid option/),
      });
    });

    it('refuses an event without an S3 URI or without a run id in shard mode', async () => {
      await expect(validateData({ datasetUri: 'https://example.com/a.csv', model }, context)).rejects.toThrow(
        /datasetUri: must be an S3 URI/,
      );
      await expect(validateData({ datasetUri: 's3://datasets/clean/data.csv', model, mode: 'shard' }, context)).rejects.toThrow(
        /runId: is required in shard mode/,
      );
    });
  });
});

describe('validate-data under S3 faults', () => {
  it('lets throttling and server errors propagate as retryable SDK errors', async () => {
    const mocked = mockClient(S3Client);
    try {
      const faults = [
        new S3ServiceException({
          name: 'SlowDown',
          $fault: 'server',
          $metadata: { httpStatusCode: 503 },
          message: 'Please reduce your request rate.',
        }),
        new S3ServiceException({
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
          message: 'We encountered an internal error.',
        }),
      ];
      for (const fault of faults) {
        mocked.reset();
        mocked.rejects(fault);
        const faulty: RunContext = {
          store: new S3ObjectStore(new S3Client({ region: 'us-east-1', maxAttempts: 1 })),
          artifactsBucket: 'artifacts',
        };
        await expect(validateData({ datasetUri: 's3://datasets/clean/data.csv', model }, faulty)).rejects.toMatchObject({
          name: fault.name,
          $fault: 'server',
        });
      }
    } finally {
      mocked.restore();
    }
  });
});
