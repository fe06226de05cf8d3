import { describe, expect, it } from 'vitest';
import { parseProfile, serializeProfile } from '../../../../lambdas/shared/profile/codec';
import type { NumericColumnProfile } from '../../../../lambdas/shared/profile/profile';
import { profileValues } from '../../../../testkit/profile-values';

const profile = profileValues([
  { name: 'x', kind: 'numeric', values: [1, 2, 4] },
  { name: 'c', kind: 'categorical', values: ['a', 'b'] },
]);
const stored = JSON.parse(serializeProfile(profile));

/** The stored profile with one change applied, parsed. */
function parseChanged(change: (copy: typeof stored) => void) {
  const copy = structuredClone(stored);
  change(copy);
  return () => parseProfile(JSON.stringify(copy));
}

describe('profile codec', () => {
  it('stores edges and tails as base64 of little-endian float64, bin means as two base64 digits each', () => {
    // 1, 2, 4 as float64 little-endian: 00…f03f, 00…0040, 00…1040.
    const floats = Buffer.from([1, 2, 4].flatMap((value) => [...Buffer.from(new Float64Array([value]).buffer)])).toString('base64');
    expect(floats).toBe('AAAAAAAA8D8AAAAAAAAAQAAAAAAAABBA');
    expect(stored.columns.x.histogram).toEqual({ edges: floats, counts: [0, 1, 1, 1], meanLevels: 'AAAAAAAA' });
    expect(stored.columns.x.tails).toEqual({ lowest: floats, highest: floats });
    expect(stored.columns.c).toEqual(profile.columns.c);
    expect(parseProfile(serializeProfile(profile))).toEqual(profile);
  });

  it('leaves out bin means and tails a profile does not have, and reads it back without them', () => {
    const { tails: _, ...column } = profile.columns.x as NumericColumnProfile;
    const old = {
      ...profile,
      columns: { x: { ...column, histogram: { edges: column.histogram.edges, counts: column.histogram.counts } } },
    };
    const text = serializeProfile(old);
    expect(JSON.parse(text).columns.x).not.toHaveProperty('tails');
    expect(JSON.parse(text).columns.x.histogram).toEqual({ edges: 'AAAAAAAA8D8AAAAAAAAAQAAAAAAAABBA', counts: [0, 1, 1, 1] });
    expect(parseProfile(text)).toEqual(old);
  });

  it('names the first problem of a stored profile', () => {
    expect(() => parseProfile('{')).toThrow(/^profile is not valid JSON: /);
    expect(() => parseProfile('[]')).toThrow('profile is invalid at (root): Invalid input: expected object, received array');
    expect(parseChanged((copy) => (copy.formatVersion = 2))).toThrow('profile is invalid at formatVersion: Invalid input: expected 1');
    expect(parseChanged((copy) => (copy.rowCount = -1))).toThrow('profile is invalid at rowCount: Too small');
    expect(parseChanged((copy) => (copy.columns.x.moments.m2 = -1))).toThrow('profile is invalid at columns.x.moments.m2: Too small');
    expect(parseChanged((copy) => (copy.columns.x.count = 1.5))).toThrow(
      'profile is invalid at columns.x.count: Invalid input: expected int',
    );
    expect(parseChanged((copy) => (copy.columns.c.kind = 'text'))).toThrow(
      'profile is invalid at columns.c.kind: Invalid discriminator value',
    );
    expect(parseChanged((copy) => (copy.columns.c.categories[0][1] = -2))).toThrow(
      'profile is invalid at columns.c.categories.0.1: Too small',
    );
  });

  it('refuses edges or tails that are not a whole number of float64 values, and counts that do not fit the edges', () => {
    expect(parseChanged((copy) => (copy.columns.x.histogram.edges = 'AAAA'))).toThrow(
      'profile histogram edges are not a whole number of float64 values',
    );
    expect(parseChanged((copy) => (copy.columns.x.tails.highest = 'AAAA'))).toThrow(
      'profile tails are not a whole number of float64 values',
    );
    expect(parseChanged((copy) => copy.columns.x.histogram.counts.push(0))).toThrow('profile column "x" has 5 bin counts for 3 edges');
  });

  it('refuses ragged lowest tails and bin means that do not fit the bins, naming the column', () => {
    expect(parseChanged((copy) => (copy.columns.x.tails.lowest = 'AAAA'))).toThrow(
      'profile tails are not a whole number of float64 values',
    );
    expect(parseChanged((copy) => (copy.columns.x.histogram.meanLevels = 'AAAA'))).toThrow('profile column "x" has 2 bin means for 4 bins');
  });

  it('checks every field of a numeric and of a categorical column', () => {
    expect(parseChanged((copy) => (copy.columns.x.nulls = -1))).toThrow('profile is invalid at columns.x.nulls: Too small');
    expect(parseChanged((copy) => (copy.columns.x.invalid = 0.5))).toThrow(
      'profile is invalid at columns.x.invalid: Invalid input: expected int',
    );
    expect(parseChanged((copy) => (copy.columns.x.min = 'a'))).toThrow('profile is invalid at columns.x.min: Invalid input');
    expect(parseChanged((copy) => (copy.columns.x.moments.count = -1))).toThrow('profile is invalid at columns.x.moments.count: Too small');
    expect(parseChanged((copy) => (copy.columns.x.moments.mean = 'a'))).toThrow(
      'profile is invalid at columns.x.moments.mean: Invalid input',
    );
    expect(parseChanged((copy) => (copy.columns.x.histogram.counts[0] = -1))).toThrow(
      'profile is invalid at columns.x.histogram.counts.0: Too small',
    );
    expect(parseChanged((copy) => (copy.columns.x.histogram.edges = '!!'))).toThrow(
      'profile is invalid at columns.x.histogram.edges: Invalid',
    );
    expect(parseChanged((copy) => (copy.columns.x.histogram.meanLevels = 7))).toThrow(
      'profile is invalid at columns.x.histogram.meanLevels: Invalid input',
    );
    expect(parseChanged((copy) => delete copy.columns.x.tails.highest)).toThrow(
      'profile is invalid at columns.x.tails.highest: Invalid input',
    );
    expect(parseChanged((copy) => (copy.columns.c.otherCount = -1))).toThrow('profile is invalid at columns.c.otherCount: Too small');
    expect(parseChanged((copy) => (copy.columns.c.nulls = -1))).toThrow('profile is invalid at columns.c.nulls: Too small');
    expect(parseChanged((copy) => (copy.columns.c.categories[0][0] = 3))).toThrow(
      'profile is invalid at columns.c.categories.0.0: Invalid input',
    );
    // An empty column: no extremes, no edges, one bin.
    const empty = { count: 0, nulls: 2, invalid: 0, min: null, max: null, moments: { count: 0, mean: 0, m2: 0 } };
    const text = JSON.stringify({
      formatVersion: 1,
      rowCount: 2,
      columns: { e: { kind: 'numeric', ...empty, histogram: { edges: '', counts: [0] } } },
    });
    expect(parseProfile(text)).toEqual({
      formatVersion: 1,
      rowCount: 2,
      columns: { e: { kind: 'numeric', ...empty, histogram: { edges: [], counts: [0] } } },
    });
  });
});
