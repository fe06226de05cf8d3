import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import { parseNumberBytes } from '../../../lambdas/shared/readers/columns';
import { readCsv } from '../../../lambdas/shared/readers/csv';
import { formatOfKey } from '../../../lambdas/shared/readers/index';
import { readJsonLines } from '../../../lambdas/shared/readers/jsonl';
import { readParquet } from '../../../lambdas/shared/readers/parquet';
import { collect, sourceOf, specsOf } from '../../support/datasets';

const specs = () =>
  specsOf([
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'number' },
    { name: 'colour', type: 'category' },
  ]);

async function csvRows(content: string | Uint8Array, options: { chunks?: number[]; delimiter?: string; batchBytes?: number } = {}) {
  const columns = specs();
  return collect(
    readCsv(sourceOf(content, options.chunks), columns, { delimiter: options.delimiter, batchBytes: options.batchBytes }),
    columns,
  );
}

describe('CSV reader', () => {
  it('reads quoted fields with delimiters, doubled quotes and newlines inside, CRLF line ends and a BOM', async () => {
    const text = '\uFEFFid,amount,colour\r\n"a,1",1.5,red\r\n"say ""hi""",-2,"blue\nish"\r\nc,,green';
    const rows = await csvRows(text);
    expect(rows.columns).toEqual({
      id: ['a,1', 'say "hi"', 'c'],
      amount: [1.5, -2, null],
      colour: ['red', 'blue\nish', 'green'],
    });
    expect(rows.problems).toEqual([]);
    expect(rows.rowTexts[0]).toBe('"a,1",1.5,red');
  });

  it('finds the columns by header name whatever their order, ignoring extra columns', async () => {
    const rows = await csvRows('colour,extra,amount,id\nred,x,3,a\n');
    expect(rows.columns).toEqual({ id: ['a'], amount: [3], colour: ['red'] });
  });

  it('gives the same rows however the stream is cut into chunks and batches', async () => {
    const lines = ['id,amount,colour'];
    for (let row = 0; row < 300; row++) lines.push(`"r${row}\r\n""x""",${row / 8},${['red', 'green', '"bl,ue"'][row % 3]}`);
    const text = `${lines.join('\r\n')}\r\n`;
    const expected = await csvRows(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 16, max: 4096 }),
        async (chunks, batchBytes) => {
          expect(await csvRows(text, { chunks, batchBytes })).toEqual(expected);
        },
      ),
      { numRuns: 40 },
    );
    expect(expected.columns.amount).toHaveLength(300);
  });

  it('reads gzip-compressed CSV', async () => {
    const rows = await csvRows(gzipSync(Buffer.from('id,amount,colour\na,1,red\nb,2,blue\n')), { chunks: [7] });
    expect(rows.columns.amount).toEqual([1, 2]);
  });

  it('reads numbers exactly as Number() does, and marks 1e400, NaN, Infinity, hex and text invalid and empty cells null', async () => {
    const rows = await csvRows(
      'id,amount,colour\na,1e400,x\nb,NaN,x\nc,Infinity,x\nd,0x10,x\ne,,x\nf,12abc,x\ng,-0.000123e-5,x\nh,12345678901234567890,x\n',
    );
    expect(rows.columns.amount).toEqual([
      { invalid: '1e400' },
      { invalid: 'NaN' },
      { invalid: 'Infinity' },
      { invalid: '0x10' },
      null,
      { invalid: '12abc' },
      -0.000123e-5,
      Number('12345678901234567890'),
    ]);
  });

  it('parses every decimal the way Number() does', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 17 }), (value, digits) => {
        for (const text of [String(value), value.toFixed(Math.min(digits, 15)), value.toExponential(Math.min(digits, 15))]) {
          const bytes = Buffer.from(text, 'latin1');
          const expected = Number(text);
          expect(Object.is(parseNumberBytes(bytes, 0, bytes.length), Number.isFinite(expected) ? expected : Number.NaN)).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('reports rows with too few or too many fields, and blank lines, as row problems with their row numbers', async () => {
    const rows = await csvRows('id,amount,colour\na,1,red\nb,2\n\nc,3,red,extra\nd,4,blue\n');
    expect(rows.problems).toEqual([
      { row: 2, message: 'has 2 fields, the header has 3' },
      { row: 3, message: 'is blank' },
      { row: 4, message: 'has 4 fields, the header has 3' },
    ]);
    expect(rows.columns.amount).toEqual([1, 'skipped', 'skipped', 'skipped', 4]);
  });

  it('reports an unterminated quote and text after a closing quote as row problems', async () => {
    const rows = await csvRows('id,amount,colour\n"a"x,1,red\nb,2,"red');
    expect(rows.problems).toEqual([
      { row: 1, message: 'has text after a closing quote' },
      { row: 2, message: 'has a quoted field that is never closed' },
    ]);
  });

  it('refuses an empty file', async () => {
    await expect(csvRows('')).rejects.toMatchObject({ name: 'DatasetFormatError', message: expect.stringMatching(/^empty file/) });
    await expect(csvRows('\uFEFF\n')).rejects.toThrow(/^empty file/);
  });

  it('refuses a header without a schema column, naming it and the header found', async () => {
    await expect(csvRows('id,colour\na,red\n')).rejects.toMatchObject({
      name: 'DatasetFormatError',
      message: 'header mismatch: missing column "amount"; the header has "id", "colour"',
    });
  });

  it('names the delimiter a file actually uses', async () => {
    await expect(csvRows('id;amount;colour\na;1;red\n')).rejects.toThrow(
      'wrong delimiter: the header did not split on "," but contains ";"; set the dataset\'s delimiter to ";"',
    );
    const rows = await csvRows('id;amount;colour\na;1;red\n', { delimiter: ';' });
    expect(rows.columns.amount).toEqual([1]);
  });

  it('refuses bytes that are not UTF-8, naming the row', async () => {
    const latin1 = Buffer.concat([
      Buffer.from('id,amount,colour\na,1,red\nb,2,'),
      Buffer.from([0x63, 0x61, 0x66, 0xe9]),
      Buffer.from('\n'),
    ]);
    await expect(csvRows(latin1)).rejects.toMatchObject({
      name: 'DatasetFormatError',
      message: expect.stringMatching(/^row 2 is not valid UTF-8/),
    });
  });

  it('interns repeated categories so that equal values share one code', async () => {
    const columns = specs();
    await collect(readCsv(sourceOf('id,amount,colour\na,1,red\nb,2,red\nc,3,"red"\n'), columns), columns);
    expect(columns[2]!.dictionary.values).toEqual(['red']);
  });
});

describe('JSON Lines reader', () => {
  const jsonSpecs = () =>
    specsOf([
      { name: 'id', type: 'string' },
      { name: 'amount', type: 'number' },
      { name: 'when', type: 'timestamp' },
      { name: 'flag', type: 'boolean' },
    ]);

  it('reads objects line by line, missing keys as null and wrong types as invalid', async () => {
    const columns = jsonSpecs();
    const text = [
      '{"id":"a","amount":1.5,"when":"2026-01-02T03:04:05Z","flag":true}',
      '{"id":"b","flag":false}',
      '{"id":7,"amount":"12","when":"yesterday","flag":"yes"}',
    ].join('\r\n');
    const rows = await collect(readJsonLines(sourceOf(text, [5]), columns), columns);
    expect(rows.columns).toEqual({
      id: ['a', 'b', { invalid: '7' }],
      amount: [1.5, null, { invalid: '12' }],
      when: [Date.UTC(2026, 0, 2, 3, 4, 5), null, { invalid: 'yesterday' }],
      flag: ['true', 'false', { invalid: 'yes' }],
    });
  });

  it('reports lines that are not JSON objects as row problems', async () => {
    const columns = jsonSpecs();
    const rows = await collect(readJsonLines(sourceOf('{"id":"a"}\n[1,2]\n{"id":\n\n{"id":"b"}\n'), columns), columns);
    expect(rows.problems).toEqual([
      { row: 2, message: 'is not a JSON object' },
      { row: 3, message: expect.stringMatching(/^is not valid JSON/) },
      { row: 4, message: 'is blank' },
    ]);
    expect(rows.columns.id).toEqual(['a', 'skipped', 'skipped', 'skipped', 'b']);
  });

  it('reads gzip-compressed JSON Lines', async () => {
    const columns = jsonSpecs();
    const rows = await collect(readJsonLines(sourceOf(gzipSync('{"id":"a","amount":2}\n')), columns), columns);
    expect(rows.columns.amount).toEqual([2]);
  });

  it('refuses an empty file', async () => {
    const columns = jsonSpecs();
    await expect(collect(readJsonLines(sourceOf(''), columns), columns)).rejects.toThrow(/^empty file/);
  });
});

describe('Parquet reader', () => {
  function asyncBuffer(bytes: ArrayBuffer) {
    return { byteLength: bytes.byteLength, slice: (start: number, end?: number) => bytes.slice(start, end) };
  }

  it('reads the schema columns of every row group, nulls included', async () => {
    const bytes = parquetWriteBuffer({
      columnData: [
        { name: 'id', data: ['a', 'b', 'c', 'd', 'e'], type: 'STRING' },
        { name: 'amount', data: [1.5, null, 3, 4, 5], type: 'DOUBLE', nullable: true },
        { name: 'colour', data: ['red', 'red', null, 'blue', 'red'], type: 'STRING', nullable: true },
        { name: 'ignored', data: [1, 2, 3, 4, 5], type: 'INT32' },
      ],
      rowGroupSize: 2,
    });
    const columns = specs();
    const rows = await collect(readParquet(asyncBuffer(bytes), columns), columns);
    expect(rows.columns).toEqual({
      id: ['a', 'b', 'c', 'd', 'e'],
      amount: [1.5, null, 3, 4, 5],
      colour: ['red', 'red', null, 'blue', 'red'],
    });
    expect(JSON.parse(rows.rowTexts[1]!)).toEqual({ id: 'b', amount: null, colour: 'red' });
  });

  it('refuses a file that is not Parquet, and one missing a schema column', async () => {
    const columns = specs();
    await expect(
      collect(readParquet(asyncBuffer(new TextEncoder().encode('id,amount\n1,2\n').buffer as ArrayBuffer), columns), columns),
    ).rejects.toThrow(/^not a readable Parquet file/);
    const bytes = parquetWriteBuffer({ columnData: [{ name: 'id', data: ['a'], type: 'STRING' }] });
    await expect(collect(readParquet(asyncBuffer(bytes), columns), columns)).rejects.toThrow(
      /^header mismatch: missing columns "amount", "colour"/,
    );
  });
});

describe('dataset format', () => {
  it('follows the object key suffix, gzip included', () => {
    expect(['a.csv', 'a.csv.gz', 'b.JSONL', 'c.ndjson.gz', 'd.parquet', 'e.tsv'].map(formatOfKey)).toEqual([
      'csv',
      'csv',
      'jsonl',
      'jsonl',
      'parquet',
      'csv',
    ]);
    expect(() => formatOfKey('data.xlsx')).toThrow(/cannot tell the format of "data.xlsx"/);
  });
});
