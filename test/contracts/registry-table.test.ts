/**
 * The registry table's keys as docs/registry.md lists them: versions zero-padded to 6 digits, so
 * that string order is numeric order, up to version 999,999.
 */
import { describe, expect, it } from 'vitest';
import { keys, MAX_VERSION } from '../../contracts/registry-table';

describe('registry table keys', () => {
  it('pads version numbers to 6 digits (VERSION#000042, APPROVAL#000042), so string order is numeric order', () => {
    expect(keys.version(42)).toBe('VERSION#000042');
    expect(keys.approval(42)).toBe('APPROVAL#000042');
    expect(keys.modelVersion('churn', 42)).toBe('MODEL#churn#VERSION#000042');
    expect(MAX_VERSION).toBe(999_999);
    const sorted = [1, 9, 10, 100, 99_999, MAX_VERSION].map(keys.version);
    expect(sorted.toSorted()).toEqual(sorted);
  });
});
