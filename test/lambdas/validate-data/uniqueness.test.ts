import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { datasetSchemaSchema } from '../../../contracts/dataset';
import { HLL_STANDARD_ERROR } from '../../../lambdas/shared/profile/sketches';
import { readCsv } from '../../../lambdas/shared/readers/csv';
import { UNIQUE_ALARM_STANDARD_ERRORS, UniquenessCheck } from '../../../lambdas/validate-data/uniqueness';
import { DatasetValidator } from '../../../lambdas/validate-data/validation';
import { sourceOf } from '../../support/datasets';

/** n distinct ids, then `repeats` of them again, in a seeded order. */
function ids(distinct: number, repeats: number, seed: number): string[] {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const values = Array.from({ length: distinct }, (_, i) => `C${seed}-${i}`);
  for (let i = 0; i < repeats; i++) values.push(values[Math.floor(next() * distinct)]!);
  for (let i = values.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [values[i], values[j]] = [values[j]!, values[i]!];
  }
  return values;
}

describe('the unique rule beyond exact tracking', () => {
  it('never reports repeats in a column without any, however many values outgrow the exact set', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1000, max: 60_000 }), fc.nat(), (distinct, seed) => {
        const check = new UniquenessCheck(500);
        for (const id of ids(distinct, 0, seed)) expect(check.repeatedString(id)).toBe(false);
        expect(check.unattributedRepeats()).toBe(0);
      }),
      { numRuns: 20 },
    );
  });

  it('finds repeats of at least 10% of the distinct count, rows plus estimate within the stated error of the truth', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2000, max: 60_000 }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.nat(),
        (distinct, share, seed) => {
          const repeats = Math.round(distinct * share);
          const check = new UniquenessCheck(500);
          let flagged = 0;
          for (const id of ids(distinct, repeats, seed)) if (check.repeatedString(id)) flagged++;
          const estimated = check.unattributedRepeats();
          expect(estimated).toBeGreaterThan(0);
          expect(Math.abs(flagged + estimated - repeats)).toBeLessThanOrEqual(
            UNIQUE_ALARM_STANDARD_ERRORS * HLL_STANDARD_ERROR * distinct + 1,
          );
        },
      ),
      { numRuns: 20 },
    );
  });

  it('tracks the first 2^20 distinct values exactly by default, and not one more (internals.md)', () => {
    const check = new UniquenessCheck();
    let repeats = 0;
    for (let value = 0; value < 2 ** 20; value++) if (check.repeatedNumber(value)) repeats++;
    expect(repeats).toBe(0);
    expect(check.repeatedNumber(2 ** 20 - 1)).toBe(true);
    expect(check.repeatedNumber(2 ** 20)).toBe(false);
    // The value past the exact set is not kept: its repeat is left to the estimate, not attributed to a row.
    expect(check.repeatedNumber(2 ** 20)).toBe(false);
  });

  it('finds every repeat row by row while the column has no more distinct values than the exact set holds', () => {
    // size 'max': fast-check 4 otherwise caps an array at 10 values whatever maxLength says (few repeats).
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 500, size: 'max' }), (values) => {
        const check = new UniquenessCheck(200);
        const seen = new Set<number>();
        for (const value of values) {
          expect(check.repeatedNumber(value)).toBe(seen.has(value));
          seen.add(value);
        }
        expect(check.unattributedRepeats()).toBe(0);
      }),
    );
  });
});

describe('validation of a column with many distinct values', () => {
  const schema = datasetSchemaSchema.parse({
    name: 'events',
    target: 'label',
    columns: [
      { name: 'id', type: 'string', unique: true },
      { name: 'page', type: 'category' },
      { name: 'label', type: 'integer' },
    ],
  });

  it('keeps at most the category cap in each dictionary, still flags a repeat beyond it by row, and profiles the top categories', async () => {
    const rows = ['id,page,label'];
    for (let i = 0; i < 6000; i++) rows.push(`C${i},${i % 3 === 0 ? 'home' : `page-${i}`},${i % 2}`);
    rows.push('C5000,home,1');
    const validator = new DatasetValidator(schema);
    validator.startObject();
    let largestDictionary = 0;
    for await (const batch of readCsv(sourceOf(`${rows.join('\n')}\n`), validator.specs, { batchBytes: 4096 })) {
      validator.addBatch(batch, 'data.csv');
      for (const spec of validator.specs) largestDictionary = Math.max(largestDictionary, spec.dictionary.permanentSize);
    }
    const { report, quarantine, profile } = validator.finish('s3://datasets/data.csv');
    expect(largestDictionary).toBeLessThanOrEqual(1000);
    const unique = report.rules.find((rule) => rule.rule === 'unique')!;
    expect(unique.violations).toBe(1);
    expect(quarantine.map((row) => row.row)).toEqual([6001]);
    const page = profile.columns.page!;
    if (page.kind !== 'categorical') throw new Error('page is categorical');
    expect(page.count).toBe(6001);
    expect(page.categories[0]).toEqual(['home', 2001]);
    expect(page.categories.length).toBeLessThanOrEqual(1000);
    expect(page.categories.reduce((total, [, count]) => total + count, page.otherCount)).toBe(6001);
  });
});
