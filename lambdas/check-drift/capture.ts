/**
 * Profiles captured inference traffic against the reference profile's edges, in constant memory:
 * capture lines become rows of typed column vectors (the readers' `storeValue` and dictionaries)
 * and feed the same column profilers validate-data uses, so the window is binned exactly like a
 * validation run and never sorted.
 *
 * Two capture formats, one JSON object per line:
 * - the serverless predict function's: `{ capturedAt, requestId, modelName, modelVersion, row, input, output }`,
 *   `input` an object keyed by feature name or an array in feature order, `output` a prediction
 *   (`{ value }` or `{ label, probabilities }`);
 * - SageMaker endpoint data capture: `{ captureData: { endpointInput, endpointOutput }, eventMetadata: { inferenceTime } }`,
 *   each side `{ data, encoding: JSON | CSV | BASE64, observedContentType }`. A JSON body is
 *   `{ instances: [...] }` / `{ predictions: [...] }` (the serving contract), a bare array, or one
 *   row; a CSV body is one row per line, fields in feature order (no quoted fields).
 */

import { type ColumnType, isNumericType } from '../../contracts/columns';
import { ValidationError } from '../shared/errors';
import {
  type ColumnProfile,
  type DatasetProfile,
  MAX_CATEGORY_LENGTH,
  MAX_TRACKED_CATEGORIES,
  PROFILE_FORMAT_VERSION,
} from '../shared/profile/profile';
import { CategoricalColumnProfiler, NumericColumnProfiler } from '../shared/profile/profilers';
import {
  allocateVectors,
  BOOLEAN_VALUES,
  ColumnDictionary,
  type ColumnSpec,
  type ColumnVector,
  parseNumberText,
  startBatch,
  storeValue,
} from '../shared/readers/columns';

/** A column of the window's profile and where its value comes from in a captured row. */
export interface CaptureColumn {
  /** Name in the current profile. */
  readonly name: string;
  readonly type: ColumnType;
  /** Column of the reference profile whose edges bin this one. */
  readonly referenceColumn: string;
  /** A model input (by name, or position in feature order for array inputs), or the model's prediction. */
  readonly source: { readonly kind: 'input'; readonly position: number } | { readonly kind: 'prediction' };
}

/** Half-open [start, end) in epoch milliseconds. */
export interface CaptureWindow {
  readonly start: number;
  readonly end: number;
}

export interface CaptureStats {
  /** Lines read. */
  lines: number;
  /** Rows profiled (an endpoint record may hold several). */
  rows: number;
  /** Rows captured outside the window (the hour partitions are coarser than the window). */
  outsideWindow: number;
  /** Lines that are not capture records; the first problem is kept for the report. */
  malformed: number;
  firstProblem?: string;
}

const BATCH_ROWS = 4096;

interface CapturedRow {
  readonly input: unknown;
  readonly output: unknown;
}

export class CaptureProfiler {
  readonly stats: CaptureStats = { lines: 0, rows: 0, outsideWindow: 0, malformed: 0 };
  private readonly specs: ColumnSpec[];
  private readonly vectors: ColumnVector[];
  private readonly numeric: (NumericColumnProfiler | undefined)[];
  private readonly categorical: (CategoricalColumnProfiler | undefined)[];
  private pending = 0;

  constructor(
    private readonly columns: readonly CaptureColumn[],
    reference: DatasetProfile,
    private readonly window?: CaptureWindow,
  ) {
    this.specs = columns.map((column) => ({
      name: column.name,
      type: column.type,
      required: false,
      // Bounded like validate-data's: values beyond the category cap get per-batch codes and a sketch.
      dictionary: new ColumnDictionary(column.type === 'boolean' ? BOOLEAN_VALUES : [], MAX_TRACKED_CATEGORIES, MAX_CATEGORY_LENGTH),
    }));
    this.vectors = allocateVectors(this.specs, BATCH_ROWS);
    this.numeric = columns.map((column) => {
      if (!isNumericType(column.type)) return undefined;
      const referenceColumn = reference.columns[column.referenceColumn];
      if (referenceColumn?.kind !== 'numeric') {
        throw new ValidationError(
          `column "${column.name}" is ${column.type} but the reference profile's "${column.referenceColumn}" is ${referenceColumn ? referenceColumn.kind : 'missing'}`,
          { column: column.name },
        );
      }
      return new NumericColumnProfiler(referenceColumn.histogram.edges);
    });
    this.categorical = columns.map((column) => (isNumericType(column.type) ? undefined : new CategoricalColumnProfiler()));
  }

  /** Adds one capture line; blank lines are skipped, anything else unreadable is counted as malformed. */
  addLine(line: string): void {
    if (line.trim() === '') return;
    this.stats.lines++;
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch (error) {
      this.malformed(`not JSON: ${(error as Error).message}`);
      return;
    }
    const parsed = parseRecord(record);
    if (typeof parsed === 'string') {
      this.malformed(parsed);
      return;
    }
    if (this.window && !(parsed.at >= this.window.start && parsed.at < this.window.end)) {
      this.stats.outsideWindow += parsed.rows.length;
      return;
    }
    for (const row of parsed.rows) this.addRow(row);
  }

  finish(): DatasetProfile {
    this.flush();
    const columns: Record<string, ColumnProfile> = {};
    this.columns.forEach((column, index) => {
      columns[column.name] = this.numeric[index]
        ? this.numeric[index].finish()
        : this.categorical[index]!.finish(this.specs[index]!.dictionary.values);
    });
    return { formatVersion: PROFILE_FORMAT_VERSION, rowCount: this.stats.rows, columns };
  }

  private malformed(problem: string): void {
    this.stats.malformed++;
    this.stats.firstProblem ??= `line ${this.stats.lines}: ${problem}`;
  }

  private addRow(row: CapturedRow): void {
    const at = this.pending;
    this.columns.forEach((column, index) => {
      let value: unknown;
      if (column.source.kind === 'prediction') value = predictionValue(row.output);
      else if (Array.isArray(row.input)) value = row.input[column.source.position];
      else if (typeof row.input === 'object' && row.input !== null) value = (row.input as Record<string, unknown>)[column.name];
      // CSV cells arrive as text; numeric columns parse them with the readers' grammar.
      if (typeof value === 'string' && (column.type === 'number' || column.type === 'integer')) value = parseNumberText(value);
      storeValue(this.vectors[index]!, column.type, this.specs[index]!.dictionary, at, value);
    });
    this.stats.rows++;
    this.pending++;
    if (this.pending === BATCH_ROWS) this.flush();
  }

  private flush(): void {
    if (this.pending === 0) return;
    this.vectors.forEach((vector, index) => {
      if (vector.kind === 'numeric') this.numeric[index]!.addBatch(vector.values, vector.states, this.pending);
      else this.categorical[index]!.addBatch(vector.codes, vector.states, this.pending, this.specs[index]!.dictionary);
    });
    this.pending = 0;
    startBatch(this.specs);
  }
}

/** The predicted value of one output: a regression value, a class label, or the output itself when it is a scalar. */
function predictionValue(output: unknown): unknown {
  if (typeof output === 'object' && output !== null && !Array.isArray(output)) {
    const prediction = output as Record<string, unknown>;
    if ('value' in prediction) return prediction.value;
    if ('label' in prediction) return prediction.label;
    return undefined;
  }
  return Array.isArray(output) ? undefined : output;
}

interface ParsedRecord {
  readonly at: number;
  readonly rows: CapturedRow[];
}

/** A capture record's time and rows, or a description of why it is not one. */
export function parseRecord(record: unknown): ParsedRecord | string {
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const fields = record as Record<string, unknown>;
  if ('captureData' in fields) return parseEndpointRecord(fields);
  if (!('input' in fields)) return 'neither a serverless capture record (no "input") nor SageMaker data capture (no "captureData")';
  const at = typeof fields.capturedAt === 'string' ? Date.parse(fields.capturedAt) : Number.NaN;
  if (Number.isNaN(at)) return '"capturedAt" is not an ISO 8601 time';
  return { at, rows: [{ input: fields.input, output: fields.output }] };
}

function parseEndpointRecord(fields: Record<string, unknown>): ParsedRecord | string {
  const captureData = fields.captureData as Record<string, unknown> | null;
  const metadata = fields.eventMetadata as Record<string, unknown> | undefined;
  const at = typeof metadata?.inferenceTime === 'string' ? Date.parse(metadata.inferenceTime) : Number.NaN;
  if (Number.isNaN(at)) return '"eventMetadata.inferenceTime" is not an ISO 8601 time';
  const inputs = decodeBody(captureData?.endpointInput, 'instances');
  if (typeof inputs === 'string') return `endpointInput: ${inputs}`;
  const outputs = captureData?.endpointOutput === undefined ? [] : decodeBody(captureData.endpointOutput, 'predictions');
  return {
    at,
    rows: inputs.map((input, index) => ({ input, output: typeof outputs === 'string' ? undefined : outputs[index] })),
  };
}

/** Rows of one side of an endpoint capture record. */
function decodeBody(side: unknown, listField: 'instances' | 'predictions'): unknown[] | string {
  if (typeof side !== 'object' || side === null) return 'missing';
  const { data, encoding, observedContentType } = side as Record<string, unknown>;
  if (typeof data !== 'string') return '"data" is not a string';
  const text = encoding === 'BASE64' ? Buffer.from(data, 'base64').toString('utf8') : data;
  const csv =
    encoding === 'CSV' || (encoding === 'BASE64' && typeof observedContentType === 'string' && observedContentType.includes('csv'));
  if (csv) {
    return text
      .split(/\r?\n/)
      .filter((line) => line.trim() !== '')
      .map((line) => (listField === 'instances' ? line.split(',') : line.split(',')[0]));
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `body is not JSON: ${(error as Error).message}`;
  }
  if (Array.isArray(body)) return body;
  if (typeof body === 'object' && body !== null && Array.isArray((body as Record<string, unknown>)[listField])) {
    return (body as Record<string, unknown[]>)[listField]!;
  }
  return [body];
}
