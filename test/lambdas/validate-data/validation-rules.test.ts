/**
 * The column rules one by one, at their edges: each rule's message in the report, a value at
 * min or max passing, uniqueness of numbers, category values beyond the first 64 distinct ones,
 * values cut at 500 characters, 20 examples of ragged rows, reasons kept only for quarantined
 * rows, bad rows not carried into the next batch, the object count, the target's presence, and a
 * reference profile made for another schema.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type DatasetSchema, datasetSchemaSchema } from '../../../contracts/dataset';
import { readCsv } from '../../../lambdas/shared/readers/csv';
import {
  failureReasonOf,
  MAX_REASON_LENGTH,
  MAX_REASON_RULES,
  MAX_TEXT_LENGTH,
  mergeShards,
  mergeTrainingRanges,
  REPORT_FORMAT_VERSION,
  type RuleResult,
} from '../../../lambdas/validate-data/report';
import type { SplitOutcome } from '../../../lambdas/validate-data/split';
import { DatasetValidator, type ValidatorOptions } from '../../../lambdas/validate-data/validation';
import { sourceOf } from '../../support/datasets';

const datasetSchema = (columns: unknown[], overrides: Record<string, unknown> = {}): DatasetSchema =>
  datasetSchemaSchema.parse({ name: 'm', target: 'y', columns, dataset: { maxBadRowFraction: 1 }, ...overrides });

async function validate(objects: string[], schema: DatasetSchema, options: ValidatorOptions = {}, batchRows?: number) {
  const validator = new DatasetValidator(schema, options);
  for (const [index, csv] of objects.entries()) {
    validator.startObject();
    const source = batchRows ? sourceOf(csv, [batchRows]) : sourceOf(csv);
    for await (const batch of readCsv(source, validator.specs)) validator.addBatch(batch, `part-${index}.csv`);
  }
  return validator.finish('s3://datasets/m/');
}

const ruleOf = (rules: readonly RuleResult[], rule: string, column?: string) => {
  const found = rules.find((result) => result.rule === rule && result.column === column);
  if (!found) throw new Error(`no rule ${rule} ${column ?? ''}`);
  return found;
};

const Y = { name: 'y', type: 'integer' };

describe('column rules', () => {
  it('describes each rule in the report', async () => {
    const schema = datasetSchema([
      { name: 'i', type: 'integer', min: 0, max: 9, unique: true },
      { name: 'n', type: 'number' },
      { name: 't', type: 'timestamp' },
      { name: 'b', type: 'boolean' },
      { name: 'c', type: 'category', allowedValues: ['a', 'b"'] },
      { name: 's', type: 'string', regex: '^x' },
      Y,
    ]);
    const { report } = await validate(['i,n,t,b,c,s,y\n1,1.5,2024-01-01T00:00:00Z,true,a,x1,0\n'], schema);
    const messages = Object.fromEntries(
      report.rules.filter((result) => result.column !== undefined).map((result) => [`${result.column}.${result.rule}`, result.message]),
    );
    expect(messages).toEqual({
      'i.type': 'values must be whole numbers',
      'i.nullable': 'values must not be empty (the column is not nullable)',
      'i.min': 'values must be >= 0',
      'i.max': 'values must be <= 9',
      'i.unique': 'values must not repeat',
      'n.type': 'values must be finite decimal numbers',
      'n.nullable': 'values must not be empty (the column is not nullable)',
      't.type': 'values must be ISO 8601 timestamps',
      't.nullable': 'values must not be empty (the column is not nullable)',
      'b.type': 'values must be true/false (or 1/0)',
      'b.nullable': 'values must not be empty (the column is not nullable)',
      'c.type': 'values must be strings (categories)',
      'c.nullable': 'values must not be empty (the column is not nullable)',
      'c.allowedValues': 'values must be one of "a", "b\\""',
      's.type': 'values must be strings',
      's.nullable': 'values must not be empty (the column is not nullable)',
      's.regex': 'values must match /^x/',
      'y.type': 'values must be whole numbers',
      'y.nullable': 'values must not be empty (the column is not nullable)',
    });
    expect(ruleOf(report.rules, 'rowShape').message).toBe('rows must have the header\u2019s fields');
  });

  it('passes values exactly at min and max, and a repeated number breaks uniqueness', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'number', min: 1.5, max: 2.5, unique: true }, Y]);
    const { report, quarantine } = await validate(['x,y\n1.5,0\n2.5,0\n1.4,0\n2.6,0\n2.5,0\n'], schema);
    expect(ruleOf(report.rules, 'min', 'x')).toMatchObject({ violations: 1, examples: [{ row: 3, value: '1.4' }] });
    expect(ruleOf(report.rules, 'max', 'x')).toMatchObject({ violations: 1, examples: [{ row: 4, value: '2.6' }] });
    expect(ruleOf(report.rules, 'unique', 'x')).toMatchObject({ violations: 1, examples: [{ row: 5, value: '2.5' }] });
    expect(quarantine.map((row) => [row.row, row.reasons])).toEqual([
      [3, ['x: min']],
      [4, ['x: max']],
      [5, ['x: unique']],
    ]);
  });

  it('checks allowed values and patterns past the first 64 distinct values, and repeats among them', async () => {
    const values = Array.from({ length: 200 }, (_, index) => `v${index}`);
    const schema = datasetSchema([
      { name: 'c', type: 'category', allowedValues: values.slice(0, 150) },
      { name: 's', type: 'string', regex: '^v1', unique: true },
      Y,
    ]);
    const rows = [...values, 'v199'].map((value) => `${value},${value},0`);
    const { report } = await validate([`c,s,y\n${rows.join('\n')}\n`], schema);
    // v150 … v199 and the repeated v199 are not allowed.
    expect(ruleOf(report.rules, 'allowedValues', 'c').violations).toBe(51);
    expect(ruleOf(report.rules, 'allowedValues', 'c').examples[0]).toMatchObject({ row: 151, value: 'v150' });
    // Matching ^v1: v1, v10-v19, v100-v199 (111 of 200), and the repeat.
    expect(ruleOf(report.rules, 'regex', 's').violations).toBe(200 - 111);
    expect(ruleOf(report.rules, 'unique', 's')).toMatchObject({ violations: 1, examples: [{ row: 201, value: 'v199' }] });
  });

  it('finds a repeat of a value first seen before the 64th distinct one, and of the 64th itself', async () => {
    const schema = datasetSchema([{ name: 's', type: 'string', unique: true }, Y]);
    const values = Array.from({ length: 100 }, (_, index) => `v${index}`);
    const rows = [...values, 'v0', 'v64'].map((value) => `${value},0`);
    const { report } = await validate([`s,y\n${rows.join('\n')}\n`], schema);
    expect(ruleOf(report.rules, 'unique', 's').examples.map((example) => example.value)).toEqual(['v0', 'v64']);
  });

  it('quarantines a row with every reason it broke, and writes no notes for one object', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer', max: 5, unique: true }, Y]);
    const { report, quarantine } = await validate(['x,y\n9,0\n9,0\n'], schema);
    expect(quarantine[1]!.reasons).toEqual(['x: max', 'x: unique']);
    expect(report.notes).toEqual([]);
  });

  it('accepts true/false and 1/0 in a boolean column and an empty value as its null', async () => {
    const schema = datasetSchema([{ name: 'b', type: 'boolean', nullable: true }, Y]);
    const { report } = await validate(['b,y\n1,0\nfalse,0\n,0\nyes,0\n'], schema);
    expect(ruleOf(report.rules, 'type', 'b')).toMatchObject({ violations: 1, examples: [{ row: 4, value: 'yes' }] });
    expect(ruleOf(report.rules, 'nullable', 'b').violations).toBe(0);
  });

  it(`cuts example values and quarantined rows at ${MAX_TEXT_LENGTH} characters, keeping one of exactly ${MAX_TEXT_LENGTH} whole`, async () => {
    const schema = datasetSchema([{ name: 's', type: 'string', regex: '^x' }, Y]);
    const whole = 'a'.repeat(MAX_TEXT_LENGTH);
    const { report, quarantine } = await validate([`s,y\n${whole},0\n${whole}b,0\n`], schema);
    expect(ruleOf(report.rules, 'regex', 's').examples.map((example) => example.value)).toEqual([whole, `${whole}…`]);
    expect(quarantine[1]!.text).toBe(`${whole}…`);
  });
});

describe('rows and batches', () => {
  it('keeps 20 examples of ragged rows while counting all of them', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y]);
    const ragged = Array.from({ length: 25 }, (_, index) => `${index}`);
    const { report } = await validate([`x,y\n${ragged.join('\n')}\n`], schema);
    expect(ruleOf(report.rules, 'rowShape').violations).toBe(25);
    expect(ruleOf(report.rules, 'rowShape').examples).toHaveLength(20);
  });

  it('keeps reasons only for the rows the quarantine holds, and does not carry a bad row into the next batch', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer', max: 5 }, Y]);
    const rows = Array.from({ length: 3000 }, (_, index) => `${index === 0 || index === 2999 ? 9 : 1},0`);
    // Small chunks: many batches, each reusing the bad-row flags of the one before.
    const { report, quarantine } = await validate([`x,y\n${rows.join('\n')}\n`], schema, { maxQuarantinedRows: 1 }, 64);
    expect(report).toMatchObject({ badRowCount: 2, quarantinedRows: 1 });
    expect(quarantine).toEqual([{ object: 'part-0.csv', row: 1, reasons: ['x: max'], text: '9,0' }]);
  });

  it('counts the objects it was fed and numbers rows within each', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer', max: 5 }, Y]);
    const { report, quarantine } = await validate(['x,y\n1,0\n9,0\n', 'x,y\n9,0\n'], schema);
    expect(report.objects).toBe(2);
    expect(quarantine.map((row) => [row.object, row.row])).toEqual([
      ['part-0.csv', 2],
      ['part-1.csv', 1],
    ]);
  });

  it('reports a missing target column, and none for a dataset without rows', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y], { dataset: { maxBadRowFraction: 1, requireTarget: true } });
    const missing = await validate(['x\n1\n'], schema);
    expect(ruleOf(missing.report.rules, 'targetPresent').passed).toBe(false);
    expect(missing.report.valid).toBe(false);
    const present = await validate(['x,y\n1,0\n'], schema);
    expect(ruleOf(present.report.rules, 'targetPresent').passed).toBe(true);
    const empty = await validate([], schema);
    expect(ruleOf(empty.report.rules, 'targetPresent').passed).toBe(true);
  });
});

describe('reference profiles', () => {
  it('refuses a reference profile whose column has another kind, naming the column', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y]);
    const reference = (await validate(['x,y\n1,0\n'], datasetSchema([{ name: 'x', type: 'string' }, Y]))).profile;
    expect(() => new DatasetValidator(schema, { referenceProfile: reference })).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: 'the reference profile\u2019s column "x" is categorical, the schema says integer'.replace('\u2019', "'"),
        details: { column: 'x' },
      }),
    );
    const other = (await validate(['z,y\n1,0\n'], datasetSchema([{ name: 'z', type: 'integer' }, Y]))).profile;
    expect(() => new DatasetValidator(schema, { referenceProfile: other })).toThrow(
      expect.objectContaining({
        details: { column: 'x' },
        message: 'the reference profile has no column "x"; it was made for another schema',
      }),
    );
  });
});

describe('the holdout-size rule', () => {
  const stats = (rows: number, classes?: Record<string, number>) => ({ rows, sha256: 'e'.repeat(64), ...(classes ? { classes } : {}) });
  const outcome = (holdout: ReturnType<typeof stats>, trainClasses?: Record<string, number>) => ({
    seed: 42,
    unlabelledRows: 0,
    holdoutFraction: 0.2,
    validationFraction: 0.1,
    train: stats(100, trainClasses),
    validation: stats(10),
    holdout,
  });
  const finish = async (split: Parameters<DatasetValidator['finish']>[1]) => {
    const validator = new DatasetValidator(datasetSchema([{ name: 'x', type: 'integer' }, Y]));
    validator.startObject();
    for await (const batch of readCsv(sourceOf('x,y\n1,0\n'), validator.specs)) validator.addBatch(batch, 'data.csv');
    return ruleOf(validator.finish('s3://datasets/m/data.csv', split).report.rules, 'holdoutSize');
  };

  it('passes a regression holdout at the minimum and fails one row under it', async () => {
    expect(await finish({ outcome: outcome(stats(30)), minHoldoutRows: 30, classification: false })).toMatchObject({
      passed: true,
      message: 'the holdout holds 30 rows (at least 30)',
    });
    expect(await finish({ outcome: outcome(stats(29)), minHoldoutRows: 30, classification: false })).toMatchObject({
      passed: false,
      message:
        'the holdout would hold 29 rows; the evaluation gate needs at least 30 to judge a model (holdoutFraction 0.2 of 1 row): add rows, raise split.holdoutFraction, lower thresholds.minHoldoutRows, or pass a holdoutUri',
    });
  });

  it('counts a classification holdout per class, the configured labels and the training classes included', async () => {
    const split = (holdout: Record<string, number>) => ({
      outcome: outcome(stats(100, holdout), { b: 50, c: 1 }),
      minHoldoutRows: 30,
      classification: true,
      classLabels: ['a', 'b', 'c'],
    });
    expect(await finish(split({ a: 30, b: 30, c: 30 }))).toMatchObject({
      passed: true,
      message: 'the holdout holds 100 rows (at least 30 per class)',
    });
    const short = await finish(split({ b: 29, c: 1, a: 30 }));
    expect(short.passed).toBe(false);
    expect(short.message).toMatch(
      /^the holdout would hold 29 rows of class "b", 1 row of class "c"; the evaluation gate needs at least 30 per class /,
    );
    // No labels anywhere: the rows in all.
    const none = await finish({ outcome: outcome(stats(5)), minHoldoutRows: 30, classification: true });
    expect(none.message).toMatch(/^the holdout would hold 5 rows; /);
    // A label nobody saw is short with 0 rows.
    const unseen = await finish({ ...split({ a: 30, b: 30 }), outcome: outcome(stats(60, { a: 30, b: 30 })) });
    expect(unseen.message).toMatch(/^the holdout would hold 0 rows of class "c"; /);
  });
});

describe('the failure reason at its edges', () => {
  const failed = (
    column: string | undefined,
    rule: string,
    violations: number,
    examples: { object: string; row: number; value: string }[] = [],
  ) => ({ rule, ...(column === undefined ? {} : { column }), passed: false, violations, message: 'm', examples }) as RuleResult;
  const reasonOf = (rules: RuleResult[], objects = 1) =>
    failureReasonOf({
      formatVersion: REPORT_FORMAT_VERSION,
      model: 'm',
      datasetUri: 's3://d/m/',
      objects,
      valid: false,
      rowCount: 10,
      badRowCount: 1,
      badRowFraction: 0.1,
      rules,
      quarantinedRows: 1,
      notes: [],
    })!;

  it('leaves passed rules out, counts ragged rows, names the object only when there are several', () => {
    const rules = [
      { ...failed('x', 'max', 1), passed: true },
      failed(undefined, 'rowShape', 1, [{ object: 'a.csv', row: 3, value: 'has 1 field' }]),
      failed(undefined, 'minRows', 1),
    ];
    expect(reasonOf(rules)).toBe('rowShape: m in 1 row (e.g. row 3: "has 1 field");\nminRows: m');
    expect(reasonOf(rules, 2)).toBe('rowShape: m in 1 row (e.g. a.csv row 3: "has 1 field");\nminRows: m');
  });

  it(`names ${MAX_REASON_RULES} rules without a tail, and says how many more past that`, () => {
    const rules = Array.from({ length: MAX_REASON_RULES }, (_, index) => failed(`c${index}`, 'max', 2));
    expect(reasonOf(rules)).not.toContain('more rules');
    expect(reasonOf(rules).split(';\n')).toHaveLength(MAX_REASON_RULES);
    expect(reasonOf([...rules, failed('z', 'max', 1)]).endsWith(';\nand 1 more rules (see the report)')).toBe(true);
  });

  it(`keeps a reason of exactly ${MAX_REASON_LENGTH} characters whole and cuts a longer one`, () => {
    // "c max: m in 2 rows" (18) plus ` (e.g. row 1: "…")` (17 and the value).
    const exact = reasonOf([failed('c', 'max', 2, [{ object: 'a', row: 1, value: 'v'.repeat(MAX_REASON_LENGTH - 35) }])]);
    expect(exact).toHaveLength(MAX_REASON_LENGTH);
    expect(exact.endsWith('")')).toBe(true);
    const longer = reasonOf([failed('c', 'max', 2, [{ object: 'a', row: 1, value: 'v'.repeat(MAX_REASON_LENGTH - 34) }])]);
    expect(longer).toHaveLength(MAX_REASON_LENGTH);
    expect(longer.endsWith('…')).toBe(true);
  });
});

describe('merging shard reports', () => {
  const schema = datasetSchema([{ name: 'x', type: 'integer', max: 5 }, Y]);

  it('adds up objects and quarantines, keeps the 20 first examples by object and row, and notes nothing without a unique column', async () => {
    // Shards merge only when binned on one reference's edges.
    const reference = (await validate(['x,y\n1,0\n9,0\n'], schema)).profile;
    const shard = (rows: number, name: string) => {
      const text = `x,y\n${Array.from({ length: rows }, () => '9,0').join('\n')}\n9\n`;
      return validate([text], schema, { referenceProfile: reference }).then((result) => ({
        ...result,
        report: {
          ...result.report,
          rules: result.report.rules.map((rule) => ({ ...rule, examples: rule.examples.map((example) => ({ ...example, object: name })) })),
        },
      }));
    };
    const shards = [
      await shard(15, 'b.csv'),
      await shard(15, 'a.csv'),
      await validate(['x,y\n1,0\n', 'x,y\n1,0\n'], schema, { referenceProfile: reference }),
    ];
    const { report } = mergeShards(schema, 's3://datasets/m/', shards);
    expect(report).toMatchObject({ objects: 4, rowCount: 34, badRowCount: 32, quarantinedRows: 32, notes: [] });
    const max = ruleOf(report.rules, 'max', 'x');
    expect(max.violations).toBe(30);
    expect(max.examples.map((example) => `${example.object}:${example.row}`)).toEqual([
      ...Array.from({ length: 15 }, (_, index) => `a.csv:${index + 1}`),
      ...Array.from({ length: 5 }, (_, index) => `b.csv:${index + 1}`),
    ]);
    expect(ruleOf(report.rules, 'rowShape')).toMatchObject({ violations: 2, message: 'rows must have the header\u2019s fields' });
    expect(ruleOf(report.rules, 'rowShape').examples.map((example) => example.object)).toEqual(['a.csv', 'b.csv']);
    // Examples of one object are ordered by row.
    const same = mergeShards(schema, 's3://datasets/m/', [await shard(3, 'a.csv'), await shard(2, 'a.csv')]).report;
    expect(ruleOf(same.rules, 'max', 'x').examples.map((example) => example.row)).toEqual([1, 1, 2, 2, 3]);
    expect(report.split).toBeUndefined();
  });

  it('fails the target rule when any shard lacks the target, and refuses an empty merge', async () => {
    const strict = datasetSchema([{ name: 'x', type: 'integer' }, Y], { dataset: { maxBadRowFraction: 1, requireTarget: true } });
    const reference = (await validate(['x,y\n1,0\n'], strict)).profile;
    const merged = mergeShards(strict, 's3://datasets/m/', [
      await validate(['x,y\n1,0\n'], strict, { referenceProfile: reference }),
      await validate(['x\n1\n'], strict, { referenceProfile: reference }),
    ]);
    expect(ruleOf(merged.report.rules, 'targetPresent').passed).toBe(false);
    expect(() => mergeShards(strict, 's3://datasets/m/', [])).toThrow(
      expect.objectContaining({
        name: 'ValidationError',
        message: 'merge mode found no shard profiles; run the shard mode over every object first',
      }),
    );
  });
});

describe('merging shard splits', () => {
  const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y]);
  const stats = (rows: number, sha: string, classes?: Record<string, number>) => ({
    rows,
    sha256: sha.repeat(64),
    ...(classes ? { classes } : {}),
  });
  const splitOf = (part: number, holdout: boolean) => ({
    seed: 42,
    unlabelledRows: part,
    holdoutFraction: 0.2,
    validationFraction: 0.1,
    train: stats(10 * part, String(part), part === 1 ? { b: 4, a: 6 } : { a: 10 * part }),
    validation: stats(part, String(part)),
    ...(holdout ? { holdout: stats(2 * part, String(part), { a: 2 * part }) } : {}),
    trainingRanges: { x: { min: part, max: 10 * part } },
  });
  const shardWith = async (reference: Awaited<ReturnType<typeof validate>>['profile'], split?: SplitOutcome) => {
    const validator = new DatasetValidator(schema, { referenceProfile: reference });
    validator.startObject();
    for await (const batch of readCsv(sourceOf('x,y\n1,0\n'), validator.specs)) validator.addBatch(batch, 'data.csv');
    return validator.finish('s3://datasets/m/', split && { outcome: split, minHoldoutRows: 1, classification: true });
  };
  const rules = { minHoldoutRows: 1, classification: true, classLabels: ['a', 'b'] };

  it('adds up the shards’ splits: rows, classes in label order, unlabelled rows, a hash of the parts, the widest ranges', async () => {
    const reference = (await validate(['x,y\n1,0\n'], schema)).profile;
    const { report } = mergeShards(
      schema,
      's3://datasets/m/',
      [await shardWith(reference, splitOf(1, true)), await shardWith(reference, splitOf(2, false))],
      rules,
    );
    const hashOf = (...parts: string[]) => {
      const hash = createHash('sha256');
      for (const part of parts) hash.update(part.repeat(64));
      return hash.digest('hex');
    };
    expect(report.split).toEqual({
      seed: 42,
      holdoutFraction: 0.2,
      validationFraction: 0.1,
      unlabelledRows: 3,
      train: { rows: 30, sha256: hashOf('1', '2'), classes: { a: 26, b: 4 } },
      validation: { rows: 3, sha256: hashOf('1', '2') },
      holdout: { rows: 2, sha256: hashOf('1'), classes: { a: 2 } },
      trainingRanges: { x: { min: 1, max: 20 } },
    });
    expect(Object.keys(report.split!.train.classes!)).toEqual(['a', 'b']);
    expect(ruleOf(report.rules, 'holdoutSize').passed).toBe(false);
  });

  it('merges no split when a shard has none, or when no split rules are given', async () => {
    const reference = (await validate(['x,y\n1,0\n'], schema)).profile;
    const withSplit = await shardWith(reference, splitOf(1, true));
    expect(mergeShards(schema, 's3://datasets/m/', [withSplit, await shardWith(reference)], rules).report.split).toBeUndefined();
    expect(mergeShards(schema, 's3://datasets/m/', [withSplit]).report.split).toBeUndefined();
    expect(mergeShards(schema, 's3://datasets/m/', [withSplit, withSplit], rules).report.split).toMatchObject({ holdout: { rows: 4 } });
    // No holdout and no ranges in any shard: none in the merge; classes kept when only some parts have them.
    const { holdout: _holdout, trainingRanges: _ranges, ...bare } = splitOf(2, false);
    const plain = { ...bare, validation: stats(1, '3', { a: 1 }) };
    const merged = mergeShards(schema, 's3://datasets/m/', [await shardWith(reference, bare), await shardWith(reference, plain)], rules)
      .report.split!;
    expect(merged).not.toHaveProperty('holdout');
    expect(merged).not.toHaveProperty('trainingRanges');
    expect(merged.validation.classes).toEqual({ a: 1 });
  });
});

describe('report edges', () => {
  it('passes maxRows at the value, gives an empty dataset a bad-row share of 0, and says the target is present', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y], { dataset: { maxBadRowFraction: 1, maxRows: 2, minRows: 0 } });
    const atMax = await validate(['x,y\n1,0\n2,0\n'], schema);
    expect(ruleOf(atMax.report.rules, 'maxRows')).toMatchObject({ passed: true, violations: 0, message: 'allows at most 2 rows, has 2' });
    expect(ruleOf(atMax.report.rules, 'targetPresent').message).toBe('the target column "y" is present');
    const empty = await validate(['x,y\n'], schema);
    expect(empty.report).toMatchObject({ rowCount: 0, badRowFraction: 0, valid: true });
  });

  it('leaves ragged rows to the bad-row share: a dataset whose only broken rule is rowShape is valid within its share', async () => {
    const schema = datasetSchema([{ name: 'x', type: 'integer' }, Y]);
    const { report } = await validate(['x,y\n1,0\n2\n'], schema);
    expect(ruleOf(report.rules, 'rowShape').passed).toBe(false);
    expect(report.valid).toBe(true);
  });

  it('merges the training ranges of shards: widest numbers, every category in order, features sorted by name', () => {
    expect(
      Object.entries(
        mergeTrainingRanges(
          [
            { z: { values: ['y'] }, a: { min: 1, max: 2 } },
            { z: { values: ['x', 'y'] }, a: { min: 0, max: 1 }, m: { values: ['q'] } },
          ],
          { z: ['y', 'x'] },
        ),
      ),
    ).toEqual([
      ['a', { min: 0, max: 2 }],
      ['m', { values: ['q'] }],
      ['z', { values: ['y', 'x'] }],
    ]);
  });
});
