/**
 * Seeded random samples and the exact two-sample statistics over raw arrays (sorted copies), the
 * independent references the drift statistics are checked against, in tests and the benchmark.
 */

import { seededRandom as seededUnit } from '../local/sample-data';

/**
 * The demo's deterministic generator (mulberry32), moved off zero by half a step so Box–Muller
 * never takes log(0); the sum is exact (32 significant bits plus one), so draws are unchanged.
 */
export function seededRandom(seed: number): () => number {
  const next = seededUnit(seed);
  return () => next() + 2 ** -33;
}

/** Standard normal draws by Box–Muller. */
export function normalSampler(random: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(random())) * Math.cos(2 * Math.PI * random());
}

export function sample(count: number, draw: () => number): Float64Array {
  const values = new Float64Array(count);
  for (let i = 0; i < count; i++) values[i] = draw();
  return values;
}

/** Exact two-sample KS statistic sup |F − G| over the pooled sorted values (ties handled). */
export function exactKs(sortedA: Float64Array, sortedB: Float64Array): number {
  let i = 0;
  let j = 0;
  let largest = 0;
  while (i < sortedA.length && j < sortedB.length) {
    const value = Math.min(sortedA[i]!, sortedB[j]!);
    while (i < sortedA.length && sortedA[i]! <= value) i++;
    while (j < sortedB.length && sortedB[j]! <= value) j++;
    largest = Math.max(largest, Math.abs(i / sortedA.length - j / sortedB.length));
  }
  return largest;
}

/** Exact Wasserstein-1 ∫ |F − G| dx between the empirical distributions, as scipy.stats.wasserstein_distance computes it. */
export function exactWasserstein(sortedA: Float64Array, sortedB: Float64Array): number {
  let i = 0;
  let j = 0;
  let distance = 0;
  let previous = Math.min(sortedA[0]!, sortedB[0]!);
  while (i < sortedA.length || j < sortedB.length) {
    const value = j >= sortedB.length || (i < sortedA.length && sortedA[i]! <= sortedB[j]!) ? sortedA[i]! : sortedB[j]!;
    distance += Math.abs(i / sortedA.length - j / sortedB.length) * (value - previous);
    while (i < sortedA.length && sortedA[i]! <= value) i++;
    while (j < sortedB.length && sortedB[j]! <= value) j++;
    previous = value;
  }
  return distance;
}

/** Exact two-sided p-value of the two-sample KS test for n = m and D = k/n (Gnedenko and Korolyuk). */
export function exactKsPValueEqualSizes(n: number, k: number): number {
  const logChoose = (total: number, chosen: number) => {
    let sum = 0;
    for (let i = 1; i <= chosen; i++) sum += Math.log((total - chosen + i) / i);
    return sum;
  };
  let p = 0;
  for (let j = 1; n - j * k >= 0; j++) p += (j % 2 === 1 ? 2 : -2) * Math.exp(logChoose(2 * n, n - j * k) - logChoose(2 * n, n));
  return Math.min(1, p);
}
