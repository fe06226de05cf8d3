/**
 * The training split: deterministic, stratified per class within one row, entity-stable with an
 * id column, the holdout left out when the run brings its own, values written as parsed whatever
 * the input format; and through validate-data, the parts, the model document and the holdout rule
 * that refuses a dataset too small to judge a model (the one-row dataset of the issue).
 */
import * as fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { modelDocument, splitSchema } from '../../../contracts/model';
import { parseConfig, resolveModel } from '../../../contracts/platform-config';
import { readDataset } from '../../../lambdas/shared/readers/index';
import { S3ObjectStore } from '../../../lambdas/shared/s3-object-store';
import { validateData } from '../../../lambdas/validate-data/handler';
import { mergeTrainingRanges } from '../../../lambdas/validate-data/report';
import { DatasetSplitter, type SplitName } from '../../../lambdas/validate-data/split';
import type { RunContext, ValidationSummary } from '../../../lambdas/validate-data/validate-data';
import { type RunningS3Local, startS3Local } from '../../../local/s3-local';
import { cdkJsonContext } from '../../support/cdk';
import { specsOf } from '../../support/datasets';

const COLUMNS = [
  { name: 'id', type: 'string' as const },
  { name: 'x', type: 'number' as const },
  { name: 'at', type: 'timestamp' as const },
  { name: 'flag', type: 'boolean' as const },
  { name: 'label', type: 'integer' as const },
];

/** Splits CSV text (one object) and returns each split's rows as text lines without the header. */
async function split(
  csv: string,
  options: {
    holdoutFraction?: number;
    validationFraction?: number;
    idColumn?: string;
    withHoldout?: boolean;
    classification?: boolean;
    rangeColumns?: string[];
  },
) {
  const specs = specsOf(COLUMNS);
  const splitter = new DatasetSplitter({
    columns: COLUMNS.map((column) => ({ ...column, nullable: true, unique: false, critical: false })),
    specs,
    target: 'label',
    classification: options.classification ?? true,
    split: splitSchema.parse({
      holdoutFraction: options.holdoutFraction ?? 0.2,
      validationFraction: options.validationFraction ?? 0.1,
      ...(options.idColumn ? { idColumn: options.idColumn } : {}),
    }),
    withHoldout: options.withHoldout ?? true,
    ...(options.rangeColumns ? { rangeColumns: options.rangeColumns } : {}),
  });
  const object = {
    key: 'data.csv',
    stream: async () =>
      (async function* () {
        yield Buffer.from(csv);
      })(),
    ranges: async () => {
      throw new Error('no');
    },
  };
  for await (const batch of readDataset(object, specs, {})) splitter.addBatch(batch, new Uint8Array(batch.rowCount));
  const { parts, outcome } = splitter.finish();
  const rows: Record<SplitName, string[]> = { train: [], validation: [], holdout: [] };
  for (const part of parts) rows[part.split].push(...part.text.trimEnd().split('\n').slice(1).filter(Boolean));
  return { rows, outcome, parts };
}

function dataset(rows: number, label: (index: number) => number, id: (index: number) => string = (index) => `c${index}`): string {
  const lines = ['id,x,at,flag,label'];
  for (let index = 0; index < rows; index++)
    lines.push(`${id(index)},${index * 0.5},2026-01-0${(index % 9) + 1}T00:00:00Z,${index % 2 === 0},${label(index)}`);
  return `${lines.join('\n')}\n`;
}

describe('DatasetSplitter', () => {
  it('keeps each class in the shares asked for, within one row per split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 400 }),
        fc.double({ min: 0.05, max: 0.5, noNaN: true }),
        fc.double({ min: 0, max: 0.4, noNaN: true }),
        fc.integer({ min: 1, max: 7 }),
        async (rows, holdoutFraction, validationFraction, period) => {
          fc.pre(holdoutFraction + validationFraction < 0.95);
          const { outcome } = await split(
            dataset(rows, (index) => (index % period === 0 ? 1 : 0)),
            { holdoutFraction, validationFraction },
          );
          for (const label of ['0', '1']) {
            const total = (['train', 'validation', 'holdout'] as const).reduce(
              (sum, name) => sum + (outcome[name]?.classes?.[label] ?? 0),
              0,
            );
            expect(Math.abs((outcome.holdout!.classes?.[label] ?? 0) - total * holdoutFraction)).toBeLessThanOrEqual(1);
            expect(Math.abs((outcome.validation.classes?.[label] ?? 0) - total * validationFraction)).toBeLessThanOrEqual(1);
          }
          expect(outcome.train.rows + outcome.validation.rows + outcome.holdout!.rows).toBe(rows);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the same split and the same hashes for the same data, run after run', async () => {
    const csv = dataset(500, (index) => index % 3);
    const first = await split(csv, { classification: true });
    const second = await split(csv, { classification: true });
    expect(second.outcome).toEqual(first.outcome);
    expect(second.rows).toEqual(first.rows);
  });

  it('keeps every row of an entity on one side with an id column, whatever the order of the rows', async () => {
    const ids = (index: number) => `customer-${index % 50}`;
    const forward = await split(
      dataset(400, (index) => index % 2, ids),
      { idColumn: 'id' },
    );
    const sideOf = (rows: Record<SplitName, string[]>) => {
      const side = new Map<string, Set<SplitName>>();
      for (const name of ['train', 'validation', 'holdout'] as const) {
        for (const row of rows[name]) {
          const id = row.split(',')[0]!;
          side.set(id, (side.get(id) ?? new Set()).add(name));
        }
      }
      return side;
    };
    const sides = sideOf(forward.rows);
    expect([...sides.values()].every((set) => set.size === 1)).toBe(true);
    const reversedCsv = `${dataset(400, (index) => index % 2, ids)
      .trimEnd()
      .split('\n')
      .slice(1)
      .reverse()
      .join('\n')}\n`;
    const reversed = await split(`id,x,at,flag,label\n${reversedCsv}`, { idColumn: 'id' });
    const reversedSides = sideOf(reversed.rows);
    for (const [id, set] of sides) expect(reversedSides.get(id)).toEqual(set);
    // 50 customers at a 0.2 holdout: some land in each split, none in two.
    expect(forward.outcome.holdout!.rows).toBeGreaterThan(0);
  });

  it('writes no holdout when the run brings its own, and puts those rows into training', async () => {
    const { outcome, parts } = await split(
      dataset(100, (index) => index % 2),
      { withHoldout: false },
    );
    expect(outcome.holdout).toBeUndefined();
    expect(parts.some((part) => part.split === 'holdout')).toBe(false);
    expect(outcome.train.rows).toBe(90);
    expect(outcome.validation.rows).toBe(10);
  });

  it('writes values as parsed: numbers round-trip, timestamps ISO in UTC, booleans, quoted text and empty nulls', async () => {
    const csv = 'id,x,at,flag,label\n"a, ""quoted"" id",1e3,2026-03-04 05:06:07Z,TRUE,1\nb,,2026-03-04T05:06:07+02:00,,0\n';
    const { rows } = await split(csv, { holdoutFraction: 0.01, validationFraction: 0 });
    expect([...rows.train, ...rows.holdout].sort()).toEqual([
      '"a, ""quoted"" id",1000,2026-03-04T05:06:07.000Z,true,1',
      'b,,2026-03-04T03:06:07.000Z,,0',
    ]);
  });

  it('leaves rows without a target out of every split and counts them', async () => {
    const { outcome } = await split('id,x,at,flag,label\na,1,,,1\nb,2,,,\nc,3,,,0\n', { holdoutFraction: 0.3 });
    expect(outcome.unlabelledRows).toBe(1);
    expect(outcome.train.rows + outcome.validation.rows + outcome.holdout!.rows).toBe(2);
  });

  it('writes a header-only part for an empty split, so each training channel exists', async () => {
    const { parts } = await split(
      dataset(3, () => 0),
      { validationFraction: 0 },
    );
    const validation = parts.filter((part) => part.split === 'validation');
    expect(validation).toHaveLength(1);
    expect(validation[0]!.text).toBe('id,x,at,flag,label\n');
  });
});

describe('training ranges', () => {
  it("are the training split's own: min and max of its numbers, timestamps in epoch seconds, the values seen", async () => {
    const { rows, outcome } = await split(
      dataset(60, (index) => index % 2),
      { rangeColumns: ['x', 'at', 'flag'] },
    );
    const train = rows.train.map((line) => line.split(','));
    const xs = train.map((cells) => Number(cells[1]));
    const seconds = train.map((cells) => Date.parse(cells[2]!) / 1000);
    expect(outcome.trainingRanges).toEqual({
      x: { min: Math.min(...xs), max: Math.max(...xs) },
      at: { min: Math.min(...seconds), max: Math.max(...seconds) },
      flag: { values: ['false', 'true'] },
    });
    // The holdout's extremes are not the model's: here the largest x went to the holdout or validation.
    const all = [...rows.train, ...rows.validation, ...rows.holdout].map((line) => Number(line.split(',')[1]));
    expect(Math.max(...all)).toBeGreaterThanOrEqual(Math.max(...xs));
  });

  it('merge over shards into the ranges of the whole, in any grouping and order', () => {
    const range = fc.oneof(
      fc.tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.double({ noNaN: true, noDefaultInfinity: true })).map(([a, b]) => ({
        min: Math.min(a, b),
        max: Math.max(a, b),
      })),
    );
    const ranges = fc.record({ x: range, y: range });
    const values = fc.record({ c: fc.subarray(['a', 'b', 'c', 'd'], { minLength: 1 }).map((seen) => ({ values: seen })) });
    fc.assert(
      fc.property(fc.array(fc.tuple(ranges, values), { minLength: 1, maxLength: 6 }), (shards) => {
        const parts = shards.map(([numeric, coded]) => ({ ...numeric, ...coded }));
        const allowed = { c: ['d', 'c', 'b', 'a'] };
        const whole = mergeTrainingRanges(parts, allowed);
        expect(mergeTrainingRanges([...parts].reverse(), allowed)).toEqual(whole);
        const [first, ...rest] = parts;
        expect(mergeTrainingRanges([first!, mergeTrainingRanges(rest.length > 0 ? rest : [first!], allowed)], allowed)).toEqual(whole);
        expect(whole.x).toEqual({ min: Math.min(...parts.map((part) => part.x.min)), max: Math.max(...parts.map((part) => part.x.max)) });
        expect(whole.c).toEqual({ values: ['d', 'c', 'b', 'a'].filter((value) => parts.some((part) => part.c.values.includes(value))) });
      }),
    );
  });
});

describe('validate-data with a split', () => {
  let s3: RunningS3Local;
  let context: RunContext;
  const config = parseConfig(cdkJsonContext.mlops);
  const churn = modelDocument(resolveModel(config, config.models[0]!));
  const header = churn.columns.map((column) => column.name).join(',');
  const row = (index: number, churned: number) =>
    `C${index},${index % 100},${(20 + (index % 50)).toFixed(2)},${(index * 12.5).toFixed(2)},${index % 5},consumer,one-year,female,${churned}`;

  beforeAll(async () => {
    s3 = await startS3Local({ buckets: ['datasets', 'artifacts'] });
    context = { store: new S3ObjectStore(s3.client()), artifactsBucket: 'artifacts' };
    await context.store.put('datasets', 'one-row.csv', `${header}\n${row(1, 1)}\n`, 'text/csv');
    await context.store.put(
      'datasets',
      'churn.csv',
      `${header}\n${Array.from({ length: 1000 }, (_, index) => row(index, index % 4 === 0 ? 1 : 0)).join('\n')}\n`,
      'text/csv',
    );
  });

  afterAll(async () => {
    await s3?.stop();
  });

  it('refuses a one-row dataset with a sentence saying the holdout cannot judge a model', async () => {
    const summary = (await validateData(
      { datasetUri: 's3://datasets/one-row.csv', model: churn, runId: 'tiny', split: { holdoutUri: null } },
      context,
    )) as ValidationSummary;
    expect(summary.valid).toBe(false);
    expect(summary.failedRules).toContainEqual({ rule: 'holdoutSize', violations: 1 });
    const report = JSON.parse(await context.store.getText('artifacts', 'reports/churn/tiny/validation-report.json'));
    const rule = report.rules.find((candidate: { rule: string }) => candidate.rule === 'holdoutSize');
    expect(rule.message).toMatch(
      /^the holdout would hold 0 rows of class "0", 0 rows of class "1"; the evaluation gate needs at least 30 per class/,
    );
  });

  it('writes the splits as CSV parts and the model document with its serving schema for the training job', async () => {
    const summary = (await validateData(
      { datasetUri: 's3://datasets/churn.csv', model: churn, runId: 'run-1', split: { holdoutUri: null } },
      context,
    )) as ValidationSummary;
    expect(summary.valid).toBe(true);
    expect(summary.split).toMatchObject({
      uri: 's3://artifacts/splits/churn/run-1/',
      train: { rows: 700 },
      validation: { rows: 100 },
      holdout: { rows: 200 },
    });
    const holdout = await context.store.getText('artifacts', 'splits/churn/run-1/holdout/part-all-00000.csv');
    expect(holdout.split('\n')[0]).toBe(header);
    expect(holdout.trimEnd().split('\n')).toHaveLength(201);
    const document = JSON.parse(await context.store.getText('artifacts', 'splits/churn/run-1/config/model.json'));
    expect(document).toMatchObject({ name: 'churn', target: 'churned', servingSchema: { modelName: 'churn', classLabels: [0, 1] } });
    expect(document.servingSchema.features.map((feature: { name: string }) => feature.name)).toEqual(churn.features);
    // The training split's ranges, which the training program copies into the model artifact.
    const train = (await context.store.getText('artifacts', 'splits/churn/run-1/train/part-all-00000.csv')).trimEnd().split('\n');
    const tenureColumn = train[0]!.split(',').indexOf('tenure_months');
    const tenures = train.slice(1).map((line) => Number(line.split(',')[tenureColumn]));
    expect(document.servingSchema.trainingRanges.tenure_months).toEqual({ min: Math.min(...tenures), max: Math.max(...tenures) });
    expect(document.servingSchema.trainingRanges.contract).toEqual({ values: ['one-year'] });
    expect(Object.keys(document.servingSchema.trainingRanges).sort()).toEqual([...churn.features].sort());
  });
});
