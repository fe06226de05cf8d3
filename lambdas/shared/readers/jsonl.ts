/**
 * Streaming JSON Lines reader (one JSON object per line, LF or CRLF, optional BOM, gzip handled
 * by `decompressed`). JSON needs a parse per line, so each line becomes one object briefly; the
 * values go straight into the batch's typed vectors. A key that is absent reads as null; a line
 * that is not a JSON object is a row problem, quarantined by the validator.
 */
import { isUtf8 } from 'node:buffer';
import { DatasetFormatError } from '../errors';
import { type ByteSource, ByteWindow, decompressed } from './bytes';
import {
  allocateVectors,
  CELL_SKIPPED,
  type ColumnBatch,
  type ColumnSpec,
  type ColumnVector,
  type RowProblem,
  startBatch,
  storeValue,
} from './columns';
import { MAX_ROW_BYTES } from './csv';

export interface JsonLinesOptions {
  /**
   * Bytes buffered before a batch is parsed.
   * @default 1 MiB
   */
  readonly batchBytes?: number;
  /**
   * Longest line read; a longer one is a DatasetFormatError naming its row.
   * @default MAX_ROW_BYTES
   */
  readonly maxRowBytes?: number;
}

const LF = 0x0a;

export async function* readJsonLines(
  source: ByteSource,
  specs: readonly ColumnSpec[],
  options: JsonLinesOptions = {},
): AsyncGenerator<ColumnBatch> {
  const batchBytes = options.batchBytes ?? 1 << 20;
  const maxRowBytes = options.maxRowBytes ?? MAX_ROW_BYTES;
  const iterator = decompressed(source)[Symbol.asyncIterator]();
  const window = new ByteWindow(batchBytes + (batchBytes >> 2));
  let done = false;
  let firstRowNumber = 1;
  let sawBytes = false;
  let vectors: ColumnVector[] = [];
  for (;;) {
    while (!done && window.length < batchBytes) {
      const next = await iterator.next();
      if (next.done) done = true;
      else window.append(next.value);
    }
    const bytes = window.bytes;
    if (!sawBytes) {
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) window.consume(3);
      if (done && window.bytes.toString('utf8').trim() === '') throw new DatasetFormatError('empty file: the dataset object has no rows');
      sawBytes = true;
      continue;
    }
    if (bytes.length === 0 && done) return;
    const lastNewline = bytes.lastIndexOf(LF);
    const end = done ? bytes.length : lastNewline + 1;
    if (end === 0) {
      if (window.length > maxRowBytes) {
        throw new DatasetFormatError(
          `row ${firstRowNumber} is longer than ${maxRowBytes / (1024 * 1024)} MiB (the longest row a dataset may have): split the value or store it outside the dataset`,
          { row: firstRowNumber, maxRowBytes },
        );
      }
      // One line longer than the window: read on.
      const next = await iterator.next();
      if (next.done) done = true;
      else window.append(next.value);
      continue;
    }
    if (!isUtf8(bytes.subarray(0, end))) {
      throw new DatasetFormatError(`row ${firstRowNumber + firstInvalidLine(bytes, end)} is not valid UTF-8; re-export the file as UTF-8`);
    }
    const lines: [number, number][] = [];
    for (let start = 0; start < end; ) {
      let stop = bytes.indexOf(LF, start);
      if (stop < 0 || stop >= end) stop = end;
      lines.push([start, stop > start && bytes[stop - 1] === 0x0d ? stop - 1 : stop]);
      start = stop + 1;
    }
    if (vectors.length === 0 || vectors[0]!.states.length < lines.length) vectors = allocateVectors(specs, Math.ceil(lines.length * 1.25));
    startBatch(specs);
    const rowProblems: RowProblem[] = [];
    const objects: Record<string, unknown>[] = [];
    lines.forEach(([start, stop], row) => {
      const text = bytes.toString('utf8', start, stop);
      let value: unknown;
      try {
        value = text.trim() === '' ? undefined : JSON.parse(text);
      } catch (error) {
        rowProblems.push({ index: row, message: `is not valid JSON (${(error as Error).message})` });
      }
      if (value === undefined && text.trim() === '') rowProblems.push({ index: row, message: 'is blank' });
      else if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        rowProblems.push({ index: row, message: 'is not a JSON object' });
        value = undefined;
      }
      objects.push((value ?? {}) as Record<string, unknown>);
      specs.forEach((spec, column) => {
        const vector = vectors[column]!;
        if (value === undefined) vector.states[row] = CELL_SKIPPED;
        else storeValue(vector, spec.type, spec.dictionary, row, (value as Record<string, unknown>)[spec.name]);
      });
    });
    yield {
      rowCount: lines.length,
      firstRowNumber,
      columns: specs.map((_, column) => vectors[column]),
      rowProblems,
      cellText: (column, row) => {
        const value = objects[row]?.[specs[column]!.name];
        return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
      },
      rowText: (row) => {
        const [start, stop] = lines[row]!;
        return bytes.subarray(start, stop).toString('utf8');
      },
    };
    firstRowNumber += lines.length;
    window.consume(done ? bytes.length : end);
  }
}

function firstInvalidLine(bytes: Uint8Array, end: number): number {
  let line = 0;
  for (let start = 0; start < end; line++) {
    let stop = bytes.indexOf(LF, start);
    if (stop < 0 || stop >= end) stop = end;
    if (!isUtf8(bytes.subarray(start, stop))) return line;
    start = stop + 1;
  }
  return line;
}
