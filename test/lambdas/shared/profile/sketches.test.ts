import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ADDED,
  FingerprintSet,
  FOUND,
  HLL_STANDARD_ERROR,
  HyperLogLog,
  hashNumber,
  hashString,
  NOT_TRACKED,
  SpaceSaving,
} from '../../../../lambdas/shared/profile/sketches';

describe('HyperLogLog', () => {
  it('estimates the distinct count within four standard errors (0.81% each) of the exact count', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 120_000 }), fc.nat(), fc.integer({ min: 1, max: 3 }), (distinct, seed, copies) => {
        const sketch = new HyperLogLog();
        const hash = { high: 0, low: 0 };
        for (let copy = 0; copy < copies; copy++) {
          for (let i = 0; i < distinct; i++) sketch.add(hashString(`customer-${seed}-${i}`, hash));
        }
        expect(Math.abs(sketch.estimate() - distinct)).toBeLessThanOrEqual(4 * HLL_STANDARD_ERROR * distinct + 1);
      }),
      { numRuns: 25 },
    );
  });

  it('counts numbers by value: repeats, -0 and 0 add nothing', () => {
    // size 'max': fast-check 4 otherwise caps an array at 10 values whatever maxLength says. Zeros
    // of both signs in every other run; the repeats flip each zero's sign. Equal estimates, not the
    // accuracy bound, carry the claim: its +1 would let -0 count as a value of its own.
    const value = fc.oneof({ weight: 20, arbitrary: fc.double({ noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, -0) });
    fc.assert(
      fc.property(fc.array(value, { maxLength: 3000, size: 'max' }), (values) => {
        const hash = { high: 0, low: 0 };
        const once = new HyperLogLog();
        for (const value of values) once.add(hashNumber(value, hash));
        const repeated = new HyperLogLog();
        for (const value of [...values, ...values.map((value) => (value === 0 ? -value : value))]) repeated.add(hashNumber(value, hash));
        expect(repeated.estimate()).toBe(once.estimate());
        const exact = new Set(values.map((value) => value + 0)).size;
        expect(Math.abs(once.estimate() - exact)).toBeLessThanOrEqual(4 * HLL_STANDARD_ERROR * exact + 1);
      }),
      { numRuns: 30 },
    );
  });
});

describe('HyperLogLog at its ends', () => {
  it('estimates 0 for no values and about 1 for one value', () => {
    expect(new HyperLogLog().estimate()).toBe(0);
    const one = new HyperLogLog();
    one.add(hashString('only', { high: 0, low: 0 }));
    expect(one.estimate()).toBeCloseTo(1, 2);
  });

  it('states its standard error: 1.04 / √2^14 ≈ 0.81%', () => {
    expect(HLL_STANDARD_ERROR).toBeCloseTo(0.008125, 6);
  });

  it('reads saturated registers with Ertl’s τ correction', () => {
    // A quarter of the registers saturated (rank 33, a low word of 0), half at rank 2, a quarter
    // empty: Ertl's estimator (2017, algorithm 6) written independently in Python gives
    //   m=2**14; z=m*tau(1-4096/m); z=0.5*(z+C_k) for k=32..1; z+=m*sigma(4096/m); m*m/(2*ln2*z)
    // = 26536.28200179177 (/usr/bin/python3, with tau and sigma as in the paper).
    const sketch = new HyperLogLog();
    const registers = (sketch as unknown as { registers: Uint8Array }).registers; // private: no hash reaches rank 33 on purpose
    registers.fill(33, 0, 4096);
    registers.fill(2, 4096, 12_288);
    expect(sketch.estimate()).toBeCloseTo(26536.28200179177, 6);
  });

  it('weighs τ fully when every register is saturated or one below (ranks 33 and 32, half each)', () => {
    // Only there does τ not vanish behind 2^-32 · C_k: z = 2^-32 (m·τ(1/2) + 8192), τ(1/2) =
    // 0.14992949586408807, estimate 78101270141407.58 (the same Python as above).
    const sketch = new HyperLogLog();
    const registers = (sketch as unknown as { registers: Uint8Array }).registers;
    registers.fill(33, 0, 8192);
    registers.fill(32, 8192);
    expect(sketch.estimate() / 78101270141407.58).toBeCloseTo(1, 12);
  });

  it('hashes -0 as 0', () => {
    expect(hashNumber(-0, { high: 0, low: 0 })).toEqual(hashNumber(0, { high: 0, low: 0 }));
  });
});

describe('FingerprintSet', () => {
  it('keeps finding every value as it grows past its first 1024 slots', () => {
    const set = new FingerprintSet(10_000);
    const hash = { high: 0, low: 0 };
    for (let i = 0; i < 3000; i++) expect(set.addOrFind(hashString(`id-${i}`, hash))).toBe(ADDED);
    for (let i = 0; i < 3000; i++) expect(set.addOrFind(hashString(`id-${i}`, hash))).toBe(FOUND);
    for (let i = 0; i < 3000; i++) expect(set.addOrFind(hashNumber(i, hash))).toBe(ADDED);
    for (let i = 2999; i >= 0; i--) expect(set.addOrFind(hashNumber(i, hash))).toBe(FOUND);
    expect(set.size).toBe(6000);
    expect(new Set([FOUND, ADDED, NOT_TRACKED]).size).toBe(3);
  });

  it('finds a value only when both words match', () => {
    const set = new FingerprintSet(10);
    expect(set.addOrFind({ high: 1, low: 2 })).toBe(ADDED);
    expect(set.addOrFind({ high: 1, low: 2 })).toBe(FOUND);
    // Low words 1024 apart start probing at the same slot of the 1024: same high word, other low word.
    expect(set.addOrFind({ high: 1, low: 2 + 1024 })).toBe(ADDED);
    expect(set.addOrFind({ high: 1, low: 2 + 2048 })).toBe(ADDED);
    // The same low word under 600 high words: their probes meet (and pass) each other's slots.
    const many = new FingerprintSet(1000);
    for (let high = 0; high < 600; high++) expect(many.addOrFind({ high, low: 7 })).toBe(ADDED);
    expect(set.size).toBe(3);
  });

  it('finds every repeat exactly while below capacity and tracks nothing new beyond it', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 500 }), { maxLength: 2000, size: 'max' }),
        fc.integer({ min: 1, max: 400 }),
        (values, capacity) => {
          const set = new FingerprintSet(capacity);
          const seen = new Set<number>();
          const hash = { high: 0, low: 0 };
          for (const value of values) {
            const outcome = set.addOrFind(hashNumber(value, hash));
            if (seen.has(value)) expect(outcome).toBe(FOUND);
            else if (seen.size < capacity) {
              expect(outcome).toBe(ADDED);
              seen.add(value);
            } else expect(outcome).toBe(NOT_TRACKED);
          }
          expect(set.size).toBe(seen.size);
        },
      ),
    );
  });
});

describe('SpaceSaving', () => {
  it('keeps every value more frequent than N/capacity, each with a lower bound within N/capacity of its count', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.integer({ min: 0, max: 10_000 }).map((value) => (value % 3 === 0 ? value % 4 : value)),
          {
            minLength: 1,
            maxLength: 4000,
            size: 'max',
          },
        ),
        fc.integer({ min: 2, max: 60 }),
        (values, capacity) => {
          const sketch = new SpaceSaving(capacity);
          const exact = new Map<string, number>();
          for (const value of values) {
            sketch.add(String(value));
            exact.set(String(value), (exact.get(String(value)) ?? 0) + 1);
          }
          const bound = values.length / capacity;
          const kept = new Map(sketch.guaranteed());
          for (const [value, lower] of kept) {
            expect(lower).toBeLessThanOrEqual(exact.get(value)!);
            expect(lower).toBeGreaterThanOrEqual(exact.get(value)! - bound);
          }
          for (const [value, count] of exact) if (count > bound) expect(kept.has(value)).toBe(true);
        },
      ),
    );
  });

  it('replaces the smallest counter, wherever the heap holds it, and counts the newcomer from it', () => {
    // Counts a 9, b 6, c 4, d 2, e 7, reached in an interleaved order so increments reorder the
    // heap; then newcomers, each meeting a unique smallest counter.
    const sketch = new SpaceSaving(5);
    for (const key of 'abcdeabceabceabdeaeaebeaabac') sketch.add(key);
    expect(new Map(sketch.guaranteed())).toEqual(
      new Map([
        ['a', 9],
        ['b', 6],
        ['c', 4],
        ['d', 2],
        ['e', 7],
      ]),
    );
    sketch.add('f'); // replaces d (2 → f 3, error 2)
    expect(new Map(sketch.guaranteed())).toEqual(
      new Map([
        ['a', 9],
        ['b', 6],
        ['c', 4],
        ['f', 1],
        ['e', 7],
      ]),
    );
    sketch.add('f'); // f 4 (error 2), as c: c gets one more before the next newcomer
    sketch.add('c');
    sketch.add('g'); // replaces f (4 → g 5, error 4)
    expect(new Map(sketch.guaranteed())).toEqual(
      new Map([
        ['a', 9],
        ['b', 6],
        ['c', 5],
        ['g', 1],
        ['e', 7],
      ]),
    );
    expect(sketch.total).toBe(32);
  });

  it('keeps its counters a min-heap, whatever the stream (read through its private fields)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 400, size: 'max' }),
        fc.integer({ min: 1, max: 12 }),
        (values, capacity) => {
          const sketch = new SpaceSaving(capacity);
          const state = sketch as unknown as {
            heap: number[];
            positions: number[];
            counts: number[];
            keys: string[];
            byKey: Map<string, number>;
          };
          for (const value of values) {
            sketch.add(String(value));
            const { heap, positions, counts, keys, byKey } = state;
            for (let position = 1; position < heap.length; position++) {
              expect(counts[heap[position]!]!).toBeGreaterThanOrEqual(counts[heap[(position - 1) >> 1]!]!);
            }
            expect(heap.map((counter) => positions[counter])).toEqual(heap.map((_, position) => position));
            expect(new Map(keys.map((key, counter) => [key, counter]))).toEqual(byKey);
            expect(counts.reduce((total, count) => total + count, 0)).toBe(sketch.total);
          }
        },
      ),
      { numRuns: 50 },
    );
  });

  it('lifts a newcomer above counters already counted, and counts a replaced newcomer on', () => {
    const sketch = new SpaceSaving(3);
    for (const key of 'aaabbc') sketch.add(key); // a 3, b 2, c 1: c arrived last but is the smallest
    sketch.add('d'); // replaces c (1 → d 2, error 1)
    sketch.add('d'); // d 3
    sketch.add('e'); // replaces b (2 → e 3, error 2)
    expect(new Map(sketch.guaranteed())).toEqual(
      new Map([
        ['a', 3],
        ['d', 2],
        ['e', 1],
      ]),
    );
  });

  it('is exact while there are at most capacity distinct values', () => {
    const sketch = new SpaceSaving(3);
    for (const value of ['a', 'b', 'a', 'c', 'a', 'b']) sketch.add(value);
    expect(new Map(sketch.guaranteed())).toEqual(
      new Map([
        ['a', 3],
        ['b', 2],
        ['c', 1],
      ]),
    );
  });
});
