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
});
