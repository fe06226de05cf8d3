import { describe, expect, it } from 'vitest';
import { DatasetFormatError } from '../../../../lambdas/shared/errors';
import { readCsv } from '../../../../lambdas/shared/readers/csv';
import { readJsonLines } from '../../../../lambdas/shared/readers/jsonl';
import { specsOf } from '../../../support/datasets';

const specs = () =>
  specsOf([
    { name: 'id', type: 'string' },
    { name: 'notes', type: 'string' },
    { name: 'score', type: 'number' },
  ]);

/** Streams the header, two short rows, then one row whose quoted cell is `cellBytes` long; counts the bytes pulled. */
function longCellSource(cellBytes: number, pulled: { bytes: number }) {
  return {
    async *[Symbol.asyncIterator]() {
      const head = Buffer.from('id,notes,score\nA,short,1\nB,"also, short",2\nC,"');
      pulled.bytes += head.length;
      yield head;
      const chunk = Buffer.alloc(4096, 0x78);
      for (let sent = 0; sent < cellBytes; sent += chunk.length) {
        pulled.bytes += chunk.length;
        yield chunk;
      }
      yield Buffer.from('",3\nD,ok,4\n');
    },
  };
}

async function readAll(source: AsyncIterable<Uint8Array>, maxRowBytes: number): Promise<number> {
  let rows = 0;
  for await (const batch of readCsv(source, specs(), { batchBytes: 8192, maxRowBytes })) rows += batch.rowCount;
  return rows;
}

describe('the CSV row limit', () => {
  it('stops at a row over the limit with an error naming the row and the column, having buffered about the limit', async () => {
    const pulled = { bytes: 0 };
    const limit = 256 * 1024;
    const error = await readAll(longCellSource(8 * limit, pulled), limit).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DatasetFormatError);
    expect((error as Error).message).toMatch(/^row 3 is longer than 0\.25 MiB .* in column "notes" inside a quoted field/);
    expect(pulled.bytes).toBeLessThanOrEqual(limit + 2 * 8192);
  });

  it('stops at 16 MiB by default (the dataset rule the README states)', async () => {
    const pulled = { bytes: 0 };
    const read = async () => {
      for await (const _batch of readCsv(longCellSource(17 * 1024 * 1024, pulled), specs(), { batchBytes: 8192 })) {
      }
    };
    await expect(read()).rejects.toThrow(/^row 3 is longer than 16 MiB \(the longest row a dataset may have\), in column "notes"/);
    expect(pulled.bytes).toBeGreaterThan(16 * 1024 * 1024);
    expect(pulled.bytes).toBeLessThanOrEqual(16 * 1024 * 1024 + 2 * 8192);
  });

  it('reads a row just under the limit', async () => {
    const pulled = { bytes: 0 };
    expect(await readAll(longCellSource(200 * 1024, pulled), 256 * 1024)).toBe(4);
  });
});

describe('the JSON Lines row limit', () => {
  it('stops at a line over the limit with an error naming the row, having buffered about the limit', async () => {
    let pulled = 0;
    async function* source(): AsyncGenerator<Uint8Array> {
      const head = Buffer.from('{"id":"A","notes":"short","score":1}\n{"id":"B","notes":"');
      pulled += head.length;
      yield head;
      const chunk = Buffer.alloc(4096, 0x78);
      for (let sent = 0; sent < 1 << 21; sent += chunk.length) {
        pulled += chunk.length;
        yield chunk;
      }
      yield Buffer.from('","score":2}\n');
    }
    const read = async () => {
      for await (const _batch of readJsonLines(source(), specs(), { batchBytes: 8192, maxRowBytes: 256 * 1024 })) {
      }
    };
    await expect(read()).rejects.toThrow(/^row 2 is longer than 0\.25 MiB/);
    expect(pulled).toBeLessThanOrEqual(256 * 1024 + 2 * 8192);
  });
});
