/**
 * The range check on encoded rows: a numeric value is flagged exactly when it lies outside the
 * training split's [min, max] (as float32 sees both), a category or boolean value exactly when the
 * training split never held it; a value the range was measured from, and a null, never are.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ModelSchema, Prediction } from '../../../../contracts/serving-schema';
import { encodeRows } from '../../../../lambdas/shared/serving/features';
import { RangeCheck } from '../../../../lambdas/shared/serving/training-ranges';

const SCHEMA: ModelSchema = {
  modelName: 'm',
  problemType: 'regression',
  features: [
    { name: 'x', type: 'number', nullable: true },
    { name: 'plan', type: 'category', nullable: false, allowedValues: ['a', 'b', 'c'] },
    { name: 'flag', type: 'boolean', nullable: false },
    { name: 'at', type: 'timestamp', nullable: false },
  ],
  ignoredColumns: [],
};

const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });

function flagged(check: RangeCheck, rows: unknown[]): (string[] | undefined)[] {
  const predictions: Prediction[] = rows.map(() => ({ value: 0 }));
  const count = check.flag(encodeRows(SCHEMA, rows), predictions);
  expect(count).toBe(predictions.filter((prediction) => prediction.outOfRange).length);
  return predictions.map((prediction) => prediction.outOfRange);
}

describe('RangeCheck', () => {
  it('flags a number exactly when float32 puts it outside the training min and max, and never one it was measured from', () => {
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 20 }), fc.array(finite, { maxLength: 20 }), (training, requests) => {
        const min = Math.min(...training);
        const max = Math.max(...training);
        const check = RangeCheck.of(SCHEMA, { x: { min, max } })!;
        const rows = [...training, ...requests].map((x) => ({ x, plan: 'a', flag: true, at: '2026-01-01T00:00:00Z' }));
        const result = flagged(check, rows);
        expect(result.slice(0, training.length)).toEqual(training.map(() => undefined));
        requests.forEach((x, index) => {
          const outside = Math.fround(x) < Math.fround(min) || Math.fround(x) > Math.fround(max);
          expect(result[training.length + index]).toEqual(outside ? ['x'] : undefined);
        });
      }),
    );
  });

  it('flags categories and booleans the training split never held, every such feature of a row, and never a null', () => {
    const check = RangeCheck.of(SCHEMA, {
      x: { min: 0, max: 10 },
      plan: { values: ['a', 'c'] },
      flag: { values: ['false'] },
      at: { min: Date.parse('2026-01-01T00:00:00Z') / 1000, max: Date.parse('2026-06-30T00:00:00Z') / 1000 },
    })!;
    const row = (x: number | null, plan: string, flag: boolean, at = '2026-03-01T00:00:00Z') => ({ x, plan, flag, at });
    expect(
      flagged(check, [
        row(5, 'a', false),
        row(null, 'c', false),
        row(-50, 'b', true),
        row(1e9, 'a', false, '2027-01-01T00:00:00Z'),
        row(10, 'c', false, '2026-06-30T00:00:00Z'),
      ]),
    ).toEqual([undefined, undefined, ['x', 'plan', 'flag'], ['x', 'at'], undefined]);
  });

  it('checks nothing without ranges, or for features the ranges do not name', () => {
    expect(RangeCheck.of(SCHEMA, undefined)).toBeUndefined();
    expect(RangeCheck.of(SCHEMA, {})).toBeUndefined();
    expect(RangeCheck.of(SCHEMA, { other: { min: 0, max: 1 } })).toBeUndefined();
  });
});
