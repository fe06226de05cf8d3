/**
 * The columnar batch every reader produces (CSV, JSON Lines, Parquet): per schema column a typed
 * vector of values or dictionary codes plus a per-cell state, never one object per row. Also the
 * shared cell parsers (numbers straight from bytes, timestamps, booleans) and the per-column
 * dictionary that turns category and string cells into integer codes.
 */
import { type ColumnType, isNumericType } from '../../../contracts/columns';
import { DatasetFormatError } from '../errors';
import { CELL_INVALID, CELL_NULL, CELL_VALUE } from '../profile/profile';

export { CELL_INVALID, CELL_NULL, CELL_VALUE };
/** The row could not be split into the header's fields: the cell is neither value, null nor invalid. */
export const CELL_SKIPPED = 3;

/** Number, integer and timestamp columns (timestamps as epoch milliseconds). */
export interface NumericVector {
  readonly kind: 'numeric';
  readonly values: Float64Array;
  readonly states: Uint8Array;
}

/** Category, string and boolean columns: codes into the column's dictionary. */
export interface CodedVector {
  readonly kind: 'coded';
  readonly codes: Int32Array;
  readonly states: Uint8Array;
}

export type ColumnVector = NumericVector | CodedVector;

/** A row the reader could not split into the header's fields; its cells are CELL_SKIPPED. */
export interface RowProblem {
  /** Index of the row within its batch. */
  readonly index: number;
  readonly message: string;
}

/**
 * Rows `firstRowNumber` … `firstRowNumber + rowCount - 1` (1-based, header excluded). A batch may
 * reference the reader's buffers: use it before asking the reader for the next one.
 */
export interface ColumnBatch {
  readonly rowCount: number;
  readonly firstRowNumber: number;
  /** In the order of the reader's column specs; undefined for a column absent from the data. */
  readonly columns: readonly (ColumnVector | undefined)[];
  readonly rowProblems: readonly RowProblem[];
  /** The original text of one cell, for report examples. */
  cellText(column: number, row: number): string;
  /** The row as it appeared in the file, for the quarantine object. */
  rowText(row: number): string;
}

/** What a reader needs to know of a schema column. */
export interface ColumnSpec {
  readonly name: string;
  readonly type: ColumnType;
  /** Absent columns are allowed only where the schema says so (an unlabelled dataset's target). */
  readonly required: boolean;
  /** Shared across every object of a dataset so codes stay stable; unused for numeric columns. */
  readonly dictionary: ColumnDictionary;
}

/** The dictionary every boolean column starts with, so `false` is code 0 and `true` code 1 everywhere. */
export const BOOLEAN_VALUES = ['false', 'true'] as const;

/** Transient dictionary codes start here (2^30; a batch never holds that many cells). */
export const TRANSIENT_CODES = 1 << 30;

/**
 * Interns cell values as integer codes. Lookups by bytes hash the raw UTF-8 field and compare
 * bytes, so a repeated category costs no string allocation; strings come in from JSON Lines and
 * Parquet and from CSV fields with escaped quotes.
 *
 * Memory is bounded by `maxEntries` and `maxEntryLength`: the first `maxEntries` distinct values
 * no longer than `maxEntryLength` get permanent codes (0, 1, …, in `values`); any other value gets
 * a transient code (≥ TRANSIENT_CODES) valid for the current batch only: `startBatch` drops them.
 * Consumers read a code's value with `valueOf`, keep per-code state for permanent codes only and
 * route transient values to sketches.
 */
export class ColumnDictionary {
  /** The permanent values, by code. */
  readonly values: string[] = [];
  private readonly transient: string[] = [];
  private readonly byValue = new Map<string, number>();
  private bytes: Uint8Array[] = [];
  private slots = new Int32Array(256).fill(-1);
  private hashes: number[] = [];
  private sawOverflow = false;

  constructor(
    initial: readonly string[] = [],
    readonly maxEntries = Number.POSITIVE_INFINITY,
    /** Longer values always get transient codes, so the dictionary's bytes are bounded too. */
    readonly maxEntryLength = Number.POSITIVE_INFINITY,
  ) {
    for (const value of initial) this.codeOfString(value);
  }

  /** Values with permanent codes (0 … permanentSize − 1); transient codes are all above it. */
  get permanentSize(): number {
    return this.values.length;
  }

  /** True once a value arrived after the dictionary was full (the column has more than maxEntries distinct values). */
  get overflowed(): boolean {
    return this.sawOverflow;
  }

  /** Values held: the permanent ones and the current batch's transient ones. */
  get size(): number {
    return this.values.length + this.transient.length;
  }

  /** True for a code valid only in the current batch. */
  isTransient(code: number): boolean {
    return code >= TRANSIENT_CODES;
  }

  valueOf(code: number): string {
    return code >= TRANSIENT_CODES ? this.transient[code - TRANSIENT_CODES]! : this.values[code]!;
  }

  /** Drops the previous batch's transient codes (readers call it before decoding a batch). */
  startBatch(): void {
    this.transient.length = 0;
  }

  codeOfString(value: string): number {
    const known = this.byValue.get(value);
    if (known !== undefined) return known;
    if (this.values.length >= this.maxEntries || value.length > this.maxEntryLength) {
      this.sawOverflow = true;
      return TRANSIENT_CODES + this.transient.push(value) - 1;
    }
    const code = this.values.push(value) - 1;
    this.byValue.set(value, code);
    const encoded = Buffer.from(value, 'utf8');
    this.bytes.push(encoded);
    const hash = hashBytes(encoded, 0, encoded.length);
    this.hashes.push(hash);
    this.insertSlot(code, hash);
    return code;
  }

  codeOfBytes(buffer: Uint8Array, start: number, end: number): number {
    const hash = hashBytes(buffer, start, end);
    const mask = this.slots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const code = this.slots[slot]!;
      if (code < 0) break;
      if (this.hashes[code] === hash && sameBytes(this.bytes[code]!, buffer, start, end)) return code;
    }
    return this.codeOfString(Buffer.from(buffer.buffer, buffer.byteOffset + start, end - start).toString('utf8'));
  }

  private insertSlot(code: number, hash: number): void {
    if ((this.values.length + 1) * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2).fill(-1);
      for (let existing = 0; existing < code; existing++) this.placeSlot(existing, this.hashes[existing]!);
    }
    this.placeSlot(code, hash);
  }

  private placeSlot(code: number, hash: number): void {
    const mask = this.slots.length - 1;
    let slot = hash & mask;
    while (this.slots[slot]! >= 0) slot = (slot + 1) & mask;
    this.slots[slot] = code;
  }
}

/** Starts a batch in every spec's dictionary: the previous batch's transient codes are released. */
export function startBatch(specs: readonly ColumnSpec[]): void {
  for (const spec of specs) spec.dictionary.startBatch();
}

/** FNV-1a, 32 bits. */
function hashBytes(buffer: Uint8Array, start: number, end: number): number {
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) hash = Math.imul(hash ^ buffer[i]!, 0x01000193);
  return hash >>> 0;
}

function sameBytes(known: Uint8Array, buffer: Uint8Array, start: number, end: number): boolean {
  if (known.length !== end - start) return false;
  for (let i = 0; i < known.length; i++) if (known[i] !== buffer[start + i]) return false;
  return true;
}

const POWERS_OF_TEN = Array.from({ length: 23 }, (_, exponent) => 10 ** exponent);
/** Plain decimal and scientific notation; rejects hex, "Infinity", "NaN", blanks and thousands separators. */
const DECIMAL_PATTERN = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/**
 * Parses a decimal number from ASCII bytes, or returns NaN when the text is not one or the value
 * is not finite ("1e400"). The fast path is exact: a mantissa of at most 15 digits and a power of
 * ten up to 1e22 are both exact doubles, so one multiplication or division rounds correctly,
 * like Number(); everything else falls back to Number() on the text.
 */
export function parseNumberBytes(buffer: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = buffer[i];
  if (first === 45) {
    negative = true;
    i++;
  } else if (first === 43) {
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let fractionDigits = 0;
  while (i < end) {
    const digit = buffer[i]! - 48;
    if (digit < 0 || digit > 9) break;
    mantissa = mantissa * 10 + digit;
    digits++;
    i++;
  }
  if (i < end && buffer[i] === 46) {
    i++;
    while (i < end) {
      const digit = buffer[i]! - 48;
      if (digit < 0 || digit > 9) break;
      mantissa = mantissa * 10 + digit;
      digits++;
      fractionDigits++;
      i++;
    }
  }
  let exponent = 0;
  if (digits > 0 && i < end && (buffer[i] === 101 || buffer[i] === 69)) {
    i++;
    let exponentNegative = false;
    if (buffer[i] === 45 || buffer[i] === 43) {
      exponentNegative = buffer[i] === 45;
      i++;
    }
    const exponentStart = i;
    while (i < end && exponent < 100_000) {
      const digit = buffer[i]! - 48;
      if (digit < 0 || digit > 9) break;
      exponent = exponent * 10 + digit;
      i++;
    }
    if (i === exponentStart) return Number.NaN;
    if (exponentNegative) exponent = -exponent;
  }
  if (i !== end || digits === 0 || digits > 15) return parseNumberText(latin1(buffer, start, end));
  const scale = exponent - fractionDigits;
  let value: number;
  if (scale === 0) value = mantissa;
  else if (scale > 0 && scale <= 22) value = mantissa * POWERS_OF_TEN[scale]!;
  else if (scale < 0 && scale >= -22) value = mantissa / POWERS_OF_TEN[-scale]!;
  else return parseNumberText(latin1(buffer, start, end));
  if (!Number.isFinite(value)) return Number.NaN;
  return negative ? -value : value;
}

/** The same grammar for text cells (JSON Lines strings, CSV fallbacks). */
export function parseNumberText(text: string): number {
  if (!DECIMAL_PATTERN.test(text)) return Number.NaN;
  const value = Number(text);
  return Number.isFinite(value) ? value : Number.NaN;
}

function latin1(buffer: Uint8Array, start: number, end: number): string {
  return Buffer.from(buffer.buffer, buffer.byteOffset + start, end - start).toString('latin1');
}

/** ISO 8601 dates and date-times (`2026-01-31`, `2026-01-31T12:00:00Z`, with offset or fraction). */
const TIMESTAMP_PATTERN = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** Epoch milliseconds of an ISO 8601 timestamp, or NaN. */
export function parseTimestampText(text: string): number {
  if (!TIMESTAMP_PATTERN.test(text)) return Number.NaN;
  return Date.parse(text.length > 10 && text[10] === ' ' ? `${text.slice(0, 10)}T${text.slice(11)}` : text);
}

/** Code of a boolean cell (0 false, 1 true), or -1 when the text is not a boolean. */
export function parseBooleanText(text: string): number {
  switch (text) {
    case 'true':
    case 'TRUE':
    case 'True':
    case '1':
      return 1;
    case 'false':
    case 'FALSE':
    case 'False':
    case '0':
      return 0;
    default:
      return -1;
  }
}

/**
 * Maps schema columns to positions in the file's header. Throws DatasetFormatError naming the
 * missing columns, and the likely delimiter when the header did not split at all.
 */
export function planColumns(header: readonly string[], specs: readonly ColumnSpec[], delimiter?: string): number[] {
  const positions = new Map<string, number>();
  header.forEach((name, index) => {
    if (!positions.has(name)) positions.set(name, index);
  });
  const missing = specs.filter((spec) => spec.required && !positions.has(spec.name)).map((spec) => spec.name);
  if (missing.length > 0) {
    if (delimiter !== undefined && header.length === 1 && specs.length > 1) {
      const guess = [';', '\t', '|', ','].find((candidate) => candidate !== delimiter && header[0]!.includes(candidate));
      if (guess !== undefined) {
        throw new DatasetFormatError(
          `wrong delimiter: the header did not split on ${JSON.stringify(delimiter)} but contains ${JSON.stringify(guess)}; set the dataset's delimiter to ${JSON.stringify(guess)}`,
          { delimiter, header: header[0]!.slice(0, 200) },
        );
      }
    }
    throw new DatasetFormatError(
      `header mismatch: missing column${missing.length > 1 ? 's' : ''} ${missing.map((name) => `"${name}"`).join(', ')}; the header has ${header
        .slice(0, 50)
        .map((name) => `"${name}"`)
        .join(', ')}`,
      { missing, header: header.slice(0, 200) },
    );
  }
  const duplicates = header.filter((name, index) => header.indexOf(name) !== index && specs.some((spec) => spec.name === name));
  if (duplicates.length > 0) {
    throw new DatasetFormatError(`header mismatch: column "${duplicates[0]}" appears more than once`, { duplicates });
  }
  return specs.map((spec) => positions.get(spec.name) ?? -1);
}

/** Allocates one vector per spec for `capacity` rows (reused across batches by the readers). */
export function allocateVectors(specs: readonly ColumnSpec[], capacity: number): ColumnVector[] {
  return specs.map((spec) =>
    isNumericType(spec.type)
      ? { kind: 'numeric', values: new Float64Array(capacity), states: new Uint8Array(capacity) }
      : { kind: 'coded', codes: new Int32Array(capacity), states: new Uint8Array(capacity) },
  );
}

/** Stores one JavaScript value (from JSON Lines or Parquet) into a vector, with the schema type's rules. */
export function storeValue(vector: ColumnVector, type: ColumnType, dictionary: ColumnDictionary, row: number, value: unknown): void {
  if (value === null || value === undefined) {
    vector.states[row] = CELL_NULL;
    return;
  }
  if (vector.kind === 'numeric') {
    let number = Number.NaN;
    if (type === 'timestamp') {
      if (typeof value === 'string') number = parseTimestampText(value);
      else if (value instanceof Date) number = value.getTime();
      else if (typeof value === 'number') number = value;
      else if (typeof value === 'bigint') number = Number(value);
    } else if (typeof value === 'number') {
      number = value;
    } else if (typeof value === 'bigint') {
      number = Number(value);
    }
    if (Number.isFinite(number)) {
      vector.values[row] = number;
      vector.states[row] = CELL_VALUE;
    } else {
      vector.states[row] = CELL_INVALID;
    }
    return;
  }
  if (type === 'boolean') {
    const code = typeof value === 'boolean' ? (value ? 1 : 0) : -1;
    vector.codes[row] = code;
    vector.states[row] = code < 0 ? CELL_INVALID : CELL_VALUE;
    return;
  }
  if (typeof value === 'string') {
    vector.codes[row] = dictionary.codeOfString(value);
    vector.states[row] = CELL_VALUE;
  } else {
    vector.states[row] = CELL_INVALID;
  }
}
