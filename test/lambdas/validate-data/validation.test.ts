import { describe, expect, it } from 'vitest';
import { type DatasetSchema, datasetSchemaSchema } from '../../../contracts/dataset';
import type { ColumnProfile } from '../../../lambdas/shared/profile/profile';
import { readCsv } from '../../../lambdas/shared/readers/csv';
import { MAX_QUARANTINED_ROWS, mergeShards, type RuleResult } from '../../../lambdas/validate-data/report';
import { DatasetValidator, type ValidatorOptions } from '../../../lambdas/validate-data/validation';
import { sourceOf } from '../../support/datasets';

const schema = (overrides: Record<string, unknown> = {}): DatasetSchema =>
  datasetSchemaSchema.parse({
    name: 'churn',
    target: 'label',
    columns: [
      { name: 'id', type: 'string', regex: '^C[0-9]+$', unique: true },
      { name: 'age', type: 'integer', min: 18, max: 120 },
      { name: 'spend', type: 'number', nullable: true, min: 0 },
      { name: 'plan', type: 'category', allowedValues: ['basic', 'pro'] },
      { name: 'label', type: 'boolean' },
    ],
    ...overrides,
  });

async function validate(csv: string, datasetSchema = schema(), options: ValidatorOptions = {}) {
  const validator = new DatasetValidator(datasetSchema, options);
  validator.startObject();
  for await (const batch of readCsv(sourceOf(csv), validator.specs)) validator.addBatch(batch, 'data.csv');
  return validator.finish('s3://datasets/data.csv');
}

function rule(rules: readonly RuleResult[], name: string, column?: string): RuleResult {
  const found = rules.find((result) => result.rule === name && result.column === column);
  if (!found) throw new Error(`no rule ${name} ${column ?? ''}`);
  return found;
}

const HEADER = 'id,age,spend,plan,label';

describe('dataset validation', () => {
  it('passes a clean dataset and reports every rule it checked', async () => {
    const { report, profile, quarantine } = await validate(`${HEADER}\nC1,30,10.5,basic,true\nC2,40,,pro,false\n`);
    expect(report).toMatchObject({ valid: true, rowCount: 2, badRowCount: 0, badRowFraction: 0, quarantinedRows: 0 });
    expect(report.rules.every((result) => result.passed)).toBe(true);
    expect(report.rules.map((result) => `${result.column ?? '*'}.${result.rule}`)).toEqual([
      'id.type',
      'id.nullable',
      'id.regex',
      'id.unique',
      'age.type',
      'age.nullable',
      'age.min',
      'age.max',
      'spend.type',
      'spend.nullable',
      'spend.min',
      'plan.type',
      'plan.nullable',
      'plan.allowedValues',
      'label.type',
      'label.nullable',
      '*.rowShape',
      '*.targetPresent',
      '*.minRows',
      '*.maxBadRowFraction',
    ]);
    expect(quarantine).toEqual([]);
    expect(profile.columns.spend).toMatchObject({ count: 1, nulls: 1, min: 10.5 });
    expect(profile.columns.label).toMatchObject({
      kind: 'categorical',
      categories: [
        ['false', 1],
        ['true', 1],
      ],
    });
  });

  it('counts each rule violation with the row number and value as examples', async () => {
    const csv = [HEADER, 'C1,30,10,basic,true', 'X2,17,-1,gold,maybe', 'C1,30.5,1e400,pro,false', 'C4,,NaN,,1', 'C5,121,abc,pro,0'].join(
      '\n',
    );
    const { report } = await validate(csv, schema({ dataset: { maxBadRowFraction: 1 } }));
    const summary = (name: string, column: string) => {
      const result = rule(report.rules, name, column);
      return [result.violations, result.examples.map((example) => `${example.row}:${example.value}`)];
    };
    expect(summary('regex', 'id')).toEqual([1, ['2:X2']]);
    expect(summary('unique', 'id')).toEqual([1, ['3:C1']]);
    expect(summary('min', 'age')).toEqual([1, ['2:17']]);
    expect(summary('type', 'age')).toEqual([1, ['3:30.5']]);
    expect(summary('nullable', 'age')).toEqual([1, ['4:']]);
    expect(summary('max', 'age')).toEqual([1, ['5:121']]);
    expect(summary('min', 'spend')).toEqual([1, ['2:-1']]);
    expect(summary('type', 'spend')).toEqual([3, ['3:1e400', '4:NaN', '5:abc']]);
    expect(summary('allowedValues', 'plan')).toEqual([1, ['2:gold']]);
    expect(summary('nullable', 'plan')).toEqual([1, ['4:']]);
    expect(summary('type', 'label')).toEqual([1, ['2:maybe']]);
    expect(rule(report.rules, 'min', 'age').message).toBe('values must be >= 18');
    expect(report).toMatchObject({ valid: true, rowCount: 5, badRowCount: 4 });
  });

  it('quarantines every bad row with its reasons and its text, losing none', async () => {
    const { quarantine, report } = await validate(
      `${HEADER}\nC1,30,10,basic,true\nC2,17,1,basic,true\nC3,30\n`,
      schema({ dataset: { maxBadRowFraction: 1 } }),
    );
    expect(quarantine).toEqual([
      { object: 'data.csv', row: 2, reasons: ['age: min'], text: 'C2,17,1,basic,true' },
      { object: 'data.csv', row: 3, reasons: ['row has 2 fields, the header has 5'], text: 'C3,30' },
    ]);
    expect(rule(report.rules, 'rowShape')).toMatchObject({
      violations: 1,
      examples: [{ row: 3, value: 'has 2 fields, the header has 5' }],
    });
    expect(report.quarantinedRows).toBe(2);
  });

  it('rejects the dataset when the share of bad rows exceeds the limit, and accepts it at the limit', async () => {
    const rows = Array.from({ length: 100 }, (_, index) => `C${index},${index === 0 ? 5 : 30},1,basic,true`);
    const atLimit = await validate([HEADER, ...rows].join('\n'));
    expect(atLimit.report.valid).toBe(true);
    expect(rule(atLimit.report.rules, 'min', 'age').passed).toBe(false);
    const overLimit = await validate([HEADER, ...rows, 'C100,5,1,basic,true'].join('\n'));
    expect(overLimit.report.valid).toBe(false);
    expect(rule(overLimit.report.rules, 'maxBadRowFraction')).toMatchObject({
      passed: false,
      message: 'allows at most 1% bad rows, has 1.98% (2 of 101)',
    });
  });

  it('counts a ragged row against validity like any other bad row', async () => {
    const rows = Array.from({ length: 100 }, (_, index) => `C${index},30,1,basic,true`);
    const { report } = await validate([HEADER, ...rows, 'C100,30', 'C101,30,1,basic,true,extra'].join('\n'));
    expect(report).toMatchObject({ valid: false, rowCount: 102, badRowCount: 2 });
    expect(rule(report.rules, 'rowShape')).toMatchObject({ passed: false, violations: 2 });
    expect(rule(report.rules, 'maxBadRowFraction')).toMatchObject({
      passed: false,
      message: 'allows at most 1% bad rows, has 1.961% (2 of 102)',
    });
  });

  it('applies the row-count rules', async () => {
    const { report } = await validate(`${HEADER}\nC1,30,1,basic,true\n`, schema({ dataset: { minRows: 2 } }));
    expect(report.valid).toBe(false);
    expect(rule(report.rules, 'minRows')).toMatchObject({ passed: false, message: 'needs at least 2 rows, has 1' });
    const tooMany = await validate(`${HEADER}\nC1,30,1,basic,true\nC2,30,1,basic,true\n`, schema({ dataset: { maxRows: 1 } }));
    expect(rule(tooMany.report.rules, 'maxRows')).toMatchObject({ passed: false, message: 'allows at most 1 rows, has 2' });
  });

  it('fails a dataset without its target column, unless the target is not required', async () => {
    const csv = 'id,age,spend,plan\nC1,30,1,basic\n';
    const labelled = await validate(csv);
    expect(labelled.report.valid).toBe(false);
    expect(rule(labelled.report.rules, 'targetPresent')).toMatchObject({
      passed: false,
      message: 'the target column "label" is missing from the data',
    });
    const unlabelled = await validate(csv, schema({ dataset: { requireTarget: false } }));
    expect(unlabelled.report.valid).toBe(true);
    expect(unlabelled.report.rules.some((result) => result.rule === 'targetPresent')).toBe(false);
  });

  it('keeps at most 20 examples per rule and caps the quarantine, while counting every violation', async () => {
    const rows = Array.from({ length: 50 }, (_, index) => `C${index},5,1,basic,true`);
    const { report, quarantine } = await validate([HEADER, ...rows].join('\n'), schema(), { maxQuarantinedRows: 10 });
    expect(rule(report.rules, 'min', 'age')).toMatchObject({ violations: 50 });
    expect(rule(report.rules, 'min', 'age').examples).toHaveLength(20);
    expect(quarantine).toHaveLength(10);
    expect(report).toMatchObject({ badRowCount: 50, quarantinedRows: 10, valid: false });
  });

  it(`quarantines the first ${MAX_QUARANTINED_ROWS.toLocaleString('en-US')} bad rows by default, counting every one`, async () => {
    expect(MAX_QUARANTINED_ROWS).toBe(10_000);
    const rows = Array.from({ length: MAX_QUARANTINED_ROWS + 1 }, (_, index) => `C${index},5,1,basic,true`);
    const { report, quarantine } = await validate([HEADER, ...rows].join('\n'));
    expect(quarantine).toHaveLength(MAX_QUARANTINED_ROWS);
    expect(quarantine.at(-1)!.row).toBe(MAX_QUARANTINED_ROWS);
    expect(report).toMatchObject({ badRowCount: MAX_QUARANTINED_ROWS + 1, quarantinedRows: MAX_QUARANTINED_ROWS });
  });

  it('bins numeric columns with the reference profile edges', async () => {
    const reference = await validate(`${HEADER}\nC1,20,1,basic,true\nC2,40,2,basic,true\nC3,60,3,basic,true\n`);
    const current = await validate(`${HEADER}\nC1,30,1,basic,true\nC2,70,5,basic,true\n`, schema(), {
      referenceProfile: reference.profile,
    });
    expect(current.profile.columns.age).toMatchObject({ histogram: { edges: [20, 40, 60], counts: [0, 1, 0, 1] } });
  });

  it('refuses a reference profile made for another schema', async () => {
    const reference = await validate(`${HEADER}\nC1,20,1,basic,true\n`);
    delete reference.profile.columns.spend;
    expect(() => new DatasetValidator(schema(), { referenceProfile: reference.profile })).toThrow(
      'the reference profile has no column "spend"; it was made for another schema',
    );
  });
});

describe('shard merge', () => {
  it('merging shard results gives the counts and profile of validating the whole', async () => {
    const rows = Array.from(
      { length: 60 },
      (_, index) => `C${index},${15 + (index % 10)},${index % 7 === 0 ? '' : index},${index % 9 ? 'basic' : 'gold'},true`,
    );
    const whole = await validate([HEADER, ...rows].join('\n'), schema({ dataset: { maxBadRowFraction: 0.5 } }));
    const options = { referenceProfile: whole.profile };
    const shardSchema = schema({ dataset: { maxBadRowFraction: 0.5 } });
    const shards = await Promise.all(
      [rows.slice(0, 25), rows.slice(25)].map((part) => validate([HEADER, ...part].join('\n'), shardSchema, options)),
    );
    const merged = mergeShards(shardSchema, 's3://datasets/prefix/', shards);
    expect(merged.report).toMatchObject({ rowCount: 60, badRowCount: whole.report.badRowCount, valid: whole.report.valid });
    expect(merged.report.rules.map((result) => [result.rule, result.column, result.violations])).toEqual(
      whole.report.rules.map((result) => [result.rule, result.column, result.violations]),
    );
    const { moments, ...exact } = whole.profile.columns.age as Extract<ColumnProfile, { kind: 'numeric' }>;
    expect(merged.profile.columns.age).toMatchObject(exact);
    expect(merged.profile.columns.age).toMatchObject({
      moments: { count: moments.count, mean: moments.mean, m2: expect.closeTo(moments.m2, 9) },
    });
    expect(merged.report.notes).toEqual(['uniqueness was checked within each shard, not across shards']);
  });
});
