import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { chiSquareTest } from '../../../lambdas/check-drift/statistics';

interface Case {
  reference: number[];
  current: number[];
  statistic: number;
  p: number;
  dof: number;
}

/** Tables recorded from scipy 1.10's chi2_contingency by test/fixtures/scipy/generate.py (all-zero categories dropped first). */
const cases = (
  JSON.parse(readFileSync(new URL('../../fixtures/scipy/chi2-contingency.json', import.meta.url), 'utf8')) as { cases: Case[] }
).cases;

describe('chi-square test of homogeneity (scipy chi2_contingency)', () => {
  it('gives scipy’s statistic, degrees of freedom and p-value on 2 × k tables from 2 × 1 to 2 × 40', () => {
    expect(cases.length).toBeGreaterThan(20);
    for (const { reference, current, statistic, p, dof } of cases) {
      const test = chiSquareTest(reference, current);
      const label = JSON.stringify([reference, current]);
      expect(test.degreesOfFreedom, label).toBe(dof);
      expect(Math.abs(test.statistic - statistic), label).toBeLessThanOrEqual(1e-10 * Math.max(1, statistic));
      // Relative 1e-9, or absolute 1e-300 where scipy's p-value underflows.
      expect(Math.abs(test.pValue - p), label).toBeLessThanOrEqual(Math.max(1e-9 * p, 1e-300));
    }
  });

  it("applies Yates' correction to a 2 × 2 table: each count moves half a unit toward its expectation", () => {
    // Expected counts are all 15; |observed − expected| = 5 becomes 4.5 in each of the four cells.
    const test = chiSquareTest([10, 20], [20, 10]);
    expect(test.degreesOfFreedom).toBe(1);
    expect(test.statistic).toBeCloseTo((4 * 4.5 ** 2) / 15, 12);
  });

  it('never moves a count past its expectation', () => {
    // Every observed count is within 0.25 of its expectation (10.24, 9.76, 10.76, 10.24): each
    // correction stops there, and the statistic is zero but for rounding.
    expect(chiSquareTest([10, 10], [11, 10]).statistic).toBeLessThan(1e-20);
  });

  it('leaves out categories empty in both samples, as scipy would need to be told', () => {
    expect(chiSquareTest([600, 0, 400, 0], [500, 0, 300, 200])).toEqual(chiSquareTest([600, 400, 0], [500, 300, 200]));
  });
});
