import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../lambdas/shared/object-store';
import { type ReadProgress, readProgressLine, withReadProgress } from '../../local/read-progress';

/** A store whose one object arrives in the given chunks, a second of (fake) time each. */
function slowStore(chunks: readonly number[], clock: { now: number }): ObjectStore {
  const size = chunks.reduce((sum, length) => sum + length, 0);
  return {
    head: async (_bucket, key) => ({ key, size, etag: '"e"' }),
    stream: async () =>
      (async function* () {
        for (const length of chunks) {
          clock.now += 1000;
          yield new Uint8Array(length);
        }
      })(),
  } as Partial<ObjectStore> as ObjectStore;
}

async function readAll(store: ObjectStore): Promise<number> {
  let total = 0;
  for await (const chunk of await store.stream('datasets', 'churn/big.csv')) total += chunk.length;
  return total;
}

describe('read progress offline', () => {
  it('reports how far a long read is, every 5 s by default, without changing the bytes', async () => {
    const clock = { now: 0 };
    const reports: ReadProgress[] = [];
    const MB = 1024 * 1024;
    const store = withReadProgress(slowStore(Array(12).fill(MB), clock), (progress) => reports.push(progress), {
      now: () => clock.now,
    });
    expect(await readAll(store)).toBe(12 * MB);
    expect(reports.map((report) => report.bytesRead / MB)).toEqual([5, 10]);
    expect(readProgressLine(reports[0]!)).toBe('reading churn/big.csv: 5.0 of 12.0 MB (41%), 1.0 MB/s');
  });

  it('reports nothing for a read shorter than the interval, and passes every byte through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 4096 }), { maxLength: 4 }), async (chunks) => {
        const clock = { now: 0 };
        const reports: ReadProgress[] = [];
        const store = withReadProgress(slowStore(chunks, clock), (progress) => reports.push(progress), { now: () => clock.now });
        expect(await readAll(store)).toBe(chunks.reduce((sum, length) => sum + length, 0));
        expect(reports).toEqual([]);
      }),
    );
  });
});
