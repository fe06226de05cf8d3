/**
 * The JS distance's p-value is the G-test's: for two samples of equal size n over k bins, the
 * log-likelihood ratio statistic of their 2×k table is 4n·JSD (nats) = 8·N·JSD with N = n·m/(n+m),
 * ~ χ²(k − 1). Reference values: scipy.stats.chi2_contingency(table, lambda_="log-likelihood",
 * correction=False) on the same tables (scipy 1.10).
 */
import { describe, expect, it } from 'vitest';
import { jensenShannonDistance, jsPValue } from '../../../lambdas/check-drift/statistics';

const SCIPY_G_TEST = [
  { reference: [120, 80, 50, 30], current: [100, 90, 60, 30], g: 3.319616775530399, p: 0.3449216739080665 },
  { reference: [500, 300, 200], current: [450, 330, 220], g: 5.014648273252387, p: 0.08148599315566173 },
];

describe('jsPValue', () => {
  it.each(SCIPY_G_TEST)('is the G-test p-value of the two samples ($p for $reference vs $current)', ({ reference, current, p }) => {
    const n = reference.reduce((total, count) => total + count, 0);
    const m = current.reduce((total, count) => total + count, 0);
    expect(n).toBe(m);
    const distance = jensenShannonDistance(reference, current);
    expect(jsPValue(distance, n, m, reference.length)).toBeCloseTo(p, 10);
  });
});
