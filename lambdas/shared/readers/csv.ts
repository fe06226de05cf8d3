/**
 * Streaming CSV reader (RFC 4180: header row, quoted fields with doubled quotes and embedded
 * newlines, LF or CRLF, optional UTF-8 BOM; gzip handled by `decompressed`). A byte scanner
 * records field offsets for about a megabyte of rows at a time, then each schema column is
 * decoded straight from the bytes into a typed vector: no per-row objects, no per-cell strings
 * for numbers or repeated categories. Rows with the wrong number of fields become row problems
 * (quarantined by the validator), not errors.
 */
import { isUtf8 } from 'node:buffer';
import { DatasetFormatError } from '../errors';
import { type ByteSource, ByteWindow, decompressed } from './bytes';
import {
  allocateVectors,
  CELL_INVALID,
  CELL_NULL,
  CELL_SKIPPED,
  CELL_VALUE,
  type ColumnBatch,
  type ColumnSpec,
  type ColumnVector,
  parseBooleanText,
  parseNumberBytes,
  parseNumberText,
  parseTimestampText,
  planColumns,
  type RowProblem,
  startBatch,
} from './columns';

export interface CsvOptions {
  /**
   * One ASCII character between fields.
   * @default ','
   */
  readonly delimiter?: string;
  /**
   * Bytes buffered before a batch is scanned; also about the reader's memory use.
   * @default 1 MiB
   */
  readonly batchBytes?: number;
  /**
   * Longest row read; a longer one is a DatasetFormatError naming its row and column.
   * @default MAX_ROW_BYTES
   */
  readonly maxRowBytes?: number;
}

/**
 * A row must be whole in memory to be split into fields, so its length bounds the reader's memory
 * (the window holds at most this plus one chunk): 16 MiB, a dataset rule like a column's type.
 * One cell of a tabular dataset larger than that is a document stored in the wrong place.
 */
export const MAX_ROW_BYTES = 16 * 1024 * 1024;

/** Columns beyond this many in a header are not read (and not needed: schemas are far smaller). */
const MAX_HEADER_FIELDS = 4096;
const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const UTF8_BOM = [0xef, 0xbb, 0xbf] as const;

/** Field flags: plain, quoted, quoted with doubled quotes inside (needs unescaping). */
const PLAIN = 0;
const QUOTED = 1;
const ESCAPED = 2;

/** Field offsets of the rows scanned from one window of bytes. */
class ScannedRows {
  rowCount = 0;
  rowStarts: Int32Array;
  rowEnds: Int32Array;
  fieldCounts: Int32Array;
  malformed: (string | undefined)[] = [];
  fieldStarts: Int32Array;
  fieldEnds: Int32Array;
  fieldFlags: Uint8Array;

  constructor(
    readonly width: number,
    initialRows = 1024,
  ) {
    this.rowStarts = new Int32Array(initialRows);
    this.rowEnds = new Int32Array(initialRows);
    this.fieldCounts = new Int32Array(initialRows);
    this.fieldStarts = new Int32Array(initialRows * width);
    this.fieldEnds = new Int32Array(initialRows * width);
    this.fieldFlags = new Uint8Array(initialRows * width);
  }

  reset(): void {
    this.rowCount = 0;
    this.malformed.length = 0;
  }

  /** Makes room for one more row. */
  reserve(): void {
    if (this.rowCount < this.rowStarts.length) return;
    const rows = this.rowStarts.length * 2;
    this.rowStarts = grow(this.rowStarts, rows);
    this.rowEnds = grow(this.rowEnds, rows);
    this.fieldCounts = grow(this.fieldCounts, rows);
    this.fieldStarts = grow(this.fieldStarts, rows * this.width);
    this.fieldEnds = grow(this.fieldEnds, rows * this.width);
    const flags = new Uint8Array(rows * this.width);
    flags.set(this.fieldFlags);
    this.fieldFlags = flags;
  }
}

function grow(array: Int32Array, length: number): Int32Array {
  const grown = new Int32Array(length);
  grown.set(array);
  return grown;
}

/**
 * Scans complete rows of `bytes` from `begin`; returns the offset after the last complete row.
 * When `final` is false an incomplete last row is left for the next window.
 */
function scanRows(bytes: Uint8Array, begin: number, final: boolean, delimiter: number, rows: ScannedRows, maxRows: number): number {
  const end = bytes.length;
  const width = rows.width;
  let pos = begin;
  while (pos < end && rows.rowCount < maxRows) {
    const rowStart = pos;
    rows.reserve();
    const base = rows.rowCount * width;
    let field = 0;
    let malformed: string | undefined;
    for (;;) {
      let fieldStart = pos;
      let fieldEnd: number;
      let flag = PLAIN;
      if (pos < end && bytes[pos] === QUOTE) {
        flag = QUOTED;
        pos++;
        fieldStart = pos;
        for (;;) {
          if (pos >= end) {
            if (!final) return rowStart;
            malformed = 'has a quoted field that is never closed';
            fieldEnd = pos;
            break;
          }
          if (bytes[pos] === QUOTE) {
            if (pos + 1 >= end && !final) return rowStart;
            if (bytes[pos + 1] === QUOTE) {
              flag = ESCAPED;
              pos += 2;
              continue;
            }
            fieldEnd = pos;
            pos++;
            break;
          }
          pos++;
        }
        if (pos < end) {
          const next = bytes[pos];
          if (next !== delimiter && next !== LF && next !== CR) {
            malformed ??= 'has text after a closing quote';
            while (pos < end && bytes[pos] !== delimiter && bytes[pos] !== LF && bytes[pos] !== CR) pos++;
          }
        }
      } else {
        while (pos < end) {
          const byte = bytes[pos];
          if (byte === delimiter || byte === LF || byte === CR) break;
          pos++;
        }
        fieldEnd = pos;
      }
      if (field < width) {
        rows.fieldStarts[base + field] = fieldStart;
        rows.fieldEnds[base + field] = fieldEnd;
        rows.fieldFlags[base + field] = flag;
      }
      field++;
      if (pos >= end) {
        if (!final) return rowStart;
        break;
      }
      const byte = bytes[pos];
      if (byte === delimiter) {
        pos++;
        continue;
      }
      if (byte === CR) {
        if (pos + 1 >= end && !final) return rowStart;
        pos += bytes[pos + 1] === LF ? 2 : 1;
        break;
      }
      pos++;
      break;
    }
    // A short row's missing fields read as empty, never as a previous row's offsets.
    for (let missing = field; missing < width; missing++) {
      rows.fieldStarts[base + missing] = pos;
      rows.fieldEnds[base + missing] = pos;
      rows.fieldFlags[base + missing] = PLAIN;
    }
    rows.rowStarts[rows.rowCount] = rowStart;
    rows.rowEnds[rows.rowCount] = pos;
    rows.fieldCounts[rows.rowCount] = field;
    rows.malformed[rows.rowCount] = malformed;
    rows.rowCount++;
  }
  return pos;
}

function fieldText(bytes: Buffer, start: number, end: number, flag: number): string {
  const text = bytes.toString('utf8', start, end);
  return flag === ESCAPED ? text.replaceAll('""', '"') : text;
}

function trimLineEnd(text: string): string {
  return text.replace(/\r?\n$|\r$/, '');
}

/** Reads the header, then yields column batches until the stream ends. */
export async function* readCsv(source: ByteSource, specs: readonly ColumnSpec[], options: CsvOptions = {}): AsyncGenerator<ColumnBatch> {
  const delimiterText = options.delimiter ?? ',';
  if (
    delimiterText.length !== 1 ||
    delimiterText.charCodeAt(0) > 0x7f ||
    delimiterText === '"' ||
    delimiterText === '\n' ||
    delimiterText === '\r'
  ) {
    throw new DatasetFormatError(
      `the CSV delimiter must be one ASCII character other than a quote or newline, got ${JSON.stringify(delimiterText)}`,
    );
  }
  const delimiter = delimiterText.charCodeAt(0);
  const batchBytes = options.batchBytes ?? 1 << 20;
  const maxRowBytes = options.maxRowBytes ?? MAX_ROW_BYTES;
  const iterator = decompressed(source)[Symbol.asyncIterator]();
  const window = new ByteWindow(batchBytes + (batchBytes >> 2));
  let done = false;
  const fill = async (target: number): Promise<void> => {
    while (!done && window.length < target) {
      const next = await iterator.next();
      if (next.done) done = true;
      else window.append(next.value);
    }
  };

  // Header: the first complete row.
  const headerRows = new ScannedRows(MAX_HEADER_FIELDS, 1);
  let headerEnd = 0;
  let offset = 0;
  for (let target = 64 * 1024; ; target *= 2) {
    await fill(target);
    const bytes = window.bytes;
    offset = bytes.length >= 3 && bytes[0] === UTF8_BOM[0] && bytes[1] === UTF8_BOM[1] && bytes[2] === UTF8_BOM[2] ? 3 : 0;
    headerRows.reset();
    headerEnd = scanRows(bytes, offset, done, delimiter, headerRows, 1);
    if (headerRows.rowCount === 1 || done) break;
    if (window.length > maxRowBytes) throw rowTooLong(window.bytes, offset, 0, maxRowBytes, [], delimiter);
  }
  const headerBytes = window.bytes;
  if (headerRows.rowCount === 0 || headerBytes.subarray(offset, headerEnd).every((byte) => byte === LF || byte === CR || byte === 0x20)) {
    throw new DatasetFormatError('empty file: the dataset object has no header row');
  }
  if (!isUtf8(headerBytes.subarray(0, headerEnd))) {
    throw new DatasetFormatError('the header row is not valid UTF-8; save the file as UTF-8');
  }
  const headerWidth = Math.min(headerRows.fieldCounts[0]!, headerRows.width);
  const header = Array.from({ length: headerWidth }, (_, field) =>
    fieldText(headerBytes, headerRows.fieldStarts[field]!, headerRows.fieldEnds[field]!, headerRows.fieldFlags[field]!),
  );
  const positions = planColumns(header, specs, delimiterText);
  window.consume(headerEnd);

  const rows = new ScannedRows(headerWidth);
  let vectors: ColumnVector[] = [];
  let firstRowNumber = 1;
  for (;;) {
    await fill(batchBytes);
    if (window.length === 0 && done) return;
    const bytes = window.bytes;
    rows.reset();
    const consumed = scanRows(bytes, 0, done, delimiter, rows, Number.MAX_SAFE_INTEGER);
    if (rows.rowCount === 0) {
      if (done) return;
      if (window.length > maxRowBytes) throw rowTooLong(window.bytes, 0, firstRowNumber, maxRowBytes, header, delimiter);
      // One row longer than the window: read more (up to the limit) before scanning again.
      await fill(Math.min(window.length * 2, maxRowBytes + 1));
      continue;
    }
    if (!isUtf8(bytes.subarray(0, consumed))) {
      const bad = firstInvalidUtf8Row(bytes, rows);
      throw new DatasetFormatError(
        `row ${firstRowNumber + bad} is not valid UTF-8 (bytes that no UTF-8 text contains); re-export the file as UTF-8, not Latin-1 or Windows-1252`,
        { row: firstRowNumber + bad },
      );
    }
    if (vectors.length === 0 || vectors[0]!.states.length < rows.rowCount)
      vectors = allocateVectors(specs, Math.ceil(rows.rowCount * 1.25));
    const batch = decodeBatch(bytes, rows, specs, positions, vectors, firstRowNumber);
    yield batch;
    firstRowNumber += rows.rowCount;
    window.consume(consumed);
  }
}

/** The error for a row over the limit, naming the column whose cell it was reading when the limit was reached. */
function rowTooLong(bytes: Uint8Array, start: number, row: number, maxRowBytes: number, header: readonly string[], delimiter: number) {
  let field = 0;
  let quoted = false;
  for (let i = start; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte === QUOTE) quoted = !quoted;
    else if (byte === delimiter && !quoted) field++;
  }
  const column = header[field] ?? `field ${field + 1}`;
  const limit = `${maxRowBytes / (1024 * 1024)} MiB`;
  return row === 0
    ? new DatasetFormatError(`the header row is longer than ${limit}; is this a CSV file?`, { maxRowBytes })
    : new DatasetFormatError(
        `row ${row} is longer than ${limit} (the longest row a dataset may have), in column "${column}"${quoted ? ' inside a quoted field' : ''}: split the value or store it outside the dataset`,
        { row, column, maxRowBytes },
      );
}

function firstInvalidUtf8Row(bytes: Uint8Array, rows: ScannedRows): number {
  for (let row = 0; row < rows.rowCount; row++) {
    if (!isUtf8(bytes.subarray(rows.rowStarts[row]!, rows.rowEnds[row]!))) return row;
  }
  return rows.rowCount - 1;
}

function decodeBatch(
  bytes: Buffer,
  rows: ScannedRows,
  specs: readonly ColumnSpec[],
  positions: readonly number[],
  vectors: ColumnVector[],
  firstRowNumber: number,
): ColumnBatch {
  startBatch(specs);
  const rowCount = rows.rowCount;
  const width = rows.width;
  const rowProblems: RowProblem[] = [];
  for (let row = 0; row < rowCount; row++) {
    const fields = rows.fieldCounts[row]!;
    const malformed = rows.malformed[row];
    if (fields !== width) {
      const blank = fields === 1 && rows.fieldEnds[row * width] === rows.fieldStarts[row * width];
      rowProblems.push({
        index: row,
        message: blank ? 'is blank' : `has ${fields} field${fields === 1 ? '' : 's'}, the header has ${width}`,
      });
    } else if (malformed !== undefined) {
      rowProblems.push({ index: row, message: malformed });
    }
  }
  const columns: (ColumnVector | undefined)[] = specs.map((spec, index) => {
    const field = positions[index]!;
    if (field < 0) return undefined;
    const vector = vectors[index]!;
    const { fieldStarts, fieldEnds, fieldFlags } = rows;
    if (vector.kind === 'numeric') {
      const { values, states } = vector;
      const timestamp = spec.type === 'timestamp';
      for (let row = 0, at = field; row < rowCount; row++, at += width) {
        const start = fieldStarts[at]!;
        const end = fieldEnds[at]!;
        if (start === end) {
          states[row] = CELL_NULL;
          continue;
        }
        const value = timestamp
          ? parseTimestampText(fieldText(bytes, start, end, fieldFlags[at]!))
          : fieldFlags[at] === ESCAPED
            ? parseNumberText(fieldText(bytes, start, end, ESCAPED))
            : parseNumberBytes(bytes, start, end);
        if (!Number.isNaN(value)) {
          values[row] = value;
          states[row] = CELL_VALUE;
        } else {
          states[row] = CELL_INVALID;
        }
      }
    } else {
      const { codes, states } = vector;
      const dictionary = spec.dictionary;
      const boolean = spec.type === 'boolean';
      for (let row = 0, at = field; row < rowCount; row++, at += width) {
        const start = fieldStarts[at]!;
        const end = fieldEnds[at]!;
        if (start === end) {
          states[row] = CELL_NULL;
          continue;
        }
        if (boolean) {
          const code = parseBooleanText(bytes.toString('latin1', start, end));
          codes[row] = code;
          states[row] = code < 0 ? CELL_INVALID : CELL_VALUE;
          continue;
        }
        codes[row] =
          fieldFlags[at] === ESCAPED
            ? dictionary.codeOfString(fieldText(bytes, start, end, ESCAPED))
            : dictionary.codeOfBytes(bytes, start, end);
        states[row] = CELL_VALUE;
      }
    }
    for (const problem of rowProblems) vector.states[problem.index] = CELL_SKIPPED;
    return vector;
  });
  return {
    rowCount,
    firstRowNumber,
    columns,
    rowProblems,
    cellText: (column, row) => {
      const field = positions[column]!;
      if (field < 0 || row >= rowCount || field >= rows.fieldCounts[row]!) return '';
      const at = row * width + field;
      return fieldText(bytes, rows.fieldStarts[at]!, rows.fieldEnds[at]!, rows.fieldFlags[at]!);
    },
    rowText: (row) => trimLineEnd(bytes.toString('utf8', rows.rowStarts[row]!, rows.rowEnds[row]!)),
  };
}
