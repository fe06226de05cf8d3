import { describe, expect, it } from 'vitest';
import { ColumnDictionary } from '../../../../lambdas/shared/readers/columns';

describe('ColumnDictionary', () => {
  it('retains at most maxEntries values however many distinct values pass through it, batch by batch', () => {
    const dictionary = new ColumnDictionary([], 1000);
    let largest = 0;
    for (let batch = 0; batch < 100; batch++) {
      dictionary.startBatch();
      for (let row = 0; row < 1000; row++) {
        const text = `customer-${batch * 1000 + row}`;
        const code = dictionary.codeOfBytes(Buffer.from(text), 0, text.length);
        expect(dictionary.valueOf(code)).toBe(text);
      }
      largest = Math.max(largest, dictionary.size);
    }
    expect(dictionary.permanentSize).toBe(1000);
    expect(largest).toBeLessThanOrEqual(2000);
    dictionary.startBatch();
    expect(dictionary.size).toBe(1000);
    expect(dictionary.overflowed).toBe(true);
  });

  it('keeps the codes of its first maxEntries values stable and gives later values transient codes', () => {
    const dictionary = new ColumnDictionary(['false', 'true'], 3);
    expect(dictionary.codeOfString('a')).toBe(2);
    const transient = dictionary.codeOfString('b');
    expect(dictionary.isTransient(transient)).toBe(true);
    expect(dictionary.isTransient(2)).toBe(false);
    dictionary.startBatch();
    expect(dictionary.codeOfBytes(Buffer.from('xa'), 1, 2)).toBe(2);
    expect(dictionary.codeOfString('true')).toBe(1);
    expect(dictionary.overflowed).toBe(true);
  });

  it('is unbounded unless given a capacity (other readers of the holdout keep every value)', () => {
    const dictionary = new ColumnDictionary();
    for (let i = 0; i < 5000; i++) dictionary.codeOfString(`v${i}`);
    dictionary.startBatch();
    expect(dictionary.permanentSize).toBe(5000);
    expect(dictionary.overflowed).toBe(false);
  });

  it('never keeps a value longer than maxEntryLength, so its bytes are bounded as well as its entries', () => {
    const dictionary = new ColumnDictionary([], 1000, 1024);
    const long = 'x'.repeat(5000);
    expect(dictionary.isTransient(dictionary.codeOfString(long))).toBe(true);
    expect(dictionary.isTransient(dictionary.codeOfString('short'))).toBe(false);
    dictionary.startBatch();
    expect(dictionary.values).toEqual(['short']);
  });
});
