/**
 * Batch scoring's core: rows of an input object (CSV with a header, or JSON Lines of objects)
 * scored by one model version on the serving core predict uses (encodeRows → Scorer →
 * toPredictions), in chunks of up to MAX_ROWS_PER_REQUEST rows per session run. A row the schema
 * refuses (a missing feature, a category the model does not know) fails alone: the chunk is
 * encoded again row by row to name it, and the rest is scored. The output has one line per scored
 * row — the input's row id, the model version, the prediction (and class probabilities) — as CSV,
 * JSON Lines or Parquet (hyparquet-writer: typed columns, Snappy); beside it, capture records of the scored rows in the format drift detection reads
 * (lambdas/shared/serving/capture.ts), so the input's drift against the training profile is
 * checked by the check-drift function over that prefix (`captureUri`). Pure: the objects come in
 * as text and go out as text (Parquet: bytes).
 */
import { parse } from 'csv-parse/sync';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { BATCH_FORMATS, type BatchFormat } from '../../contracts/batch-inference';
import { MAX_ROWS_PER_REQUEST } from '../../contracts/limits';
import type { ModelSchema, Prediction } from '../../contracts/serving-schema';
import { ValidationError } from '../shared/errors';
import { parseBooleanText, parseNumberText } from '../shared/readers/columns';
import type { CaptureRecord } from '../shared/serving/capture';
import { type EncodedRows, encodeRows } from '../shared/serving/features';
import { toPredictions } from '../shared/serving/predictions';
import type { Scorer } from '../shared/serving/predictor';

/** Capture records one object contributes to the drift check at most (every k-th row beyond). */
export const MAX_CAPTURED_ROWS = 10_000;

export const BATCH_OUTPUT_FORMATS = BATCH_FORMATS;
export type BatchOutputFormat = BatchFormat;

/**
 * One input row: its id (the row id column's value, else its 1-based row number in the object) and
 * its values — an object keyed by column (JSON Lines), or the model's inputs in feature order (CSV).
 */
export interface BatchRow {
  readonly rowId: string;
  readonly instance: Record<string, unknown> | unknown[];
}

/** A row that could not be read or scored, with the reason. */
export interface RowFailure {
  readonly rowId: string;
  readonly error: string;
}

export interface ParsedRows {
  readonly rows: BatchRow[];
  /** Lines that are not rows at all (unparsable JSON, not an object). */
  readonly failures: RowFailure[];
}

/**
 * Rows of a CSV object with a header: the model's features, typed by its schema as a request would
 * carry them — numbers and integers parsed (a cell that is not a number stays text, so the encoder
 * names it), booleans from true/false/1/0, an empty cell null — and the row id column; other
 * columns are not read. A row with the wrong number of fields, or an input without a feature's
 * column, is a failure of that row.
 */
export function rowsFromCsv(schema: ModelSchema, text: string, options: { rowIdColumn?: string; delimiter?: string } = {}): ParsedRows {
  const delimiter = options.delimiter ?? ',';
  // Without a quote character no cell can hold a delimiter or a line break: split lines and cells
  // directly (several times faster than a general CSV parser); otherwise parse by the CSV rules.
  const records: string[][] = text.includes('"')
    ? (parse(text, { delimiter, skip_empty_lines: true, bom: true, relax_column_count: true }) as string[][])
    : text
        .replace(/^\uFEFF/, '')
        .split('\n')
        .map((line) => (line.endsWith('\r') ? line.slice(0, -1) : line))
        .filter((line) => line !== '')
        .map((line) => line.split(delimiter));
  const header = records[0] ?? [];
  const positions = schema.features.map((feature) => header.indexOf(feature.name));
  const idPosition = options.rowIdColumn === undefined ? -1 : header.indexOf(options.rowIdColumn);
  const rows: BatchRow[] = [];
  const failures: RowFailure[] = [];
  for (let record = 1; record < records.length; record++) {
    const cells = records[record]!;
    const rowId = idPosition >= 0 && cells[idPosition] ? cells[idPosition]! : String(record);
    if (cells.length !== header.length) {
      failures.push({ rowId, error: `row ${record} has ${cells.length} fields; the header has ${header.length}` });
      continue;
    }
    const missing = positions.findIndex((position) => position < 0);
    if (missing >= 0) {
      failures.push({ rowId, error: `row.${schema.features[missing]!.name}: the input has no such column` });
      continue;
    }
    // The model's inputs in feature order: the encoder's fast path for rows given as arrays.
    const instance = schema.features.map((feature, index) => typedCell(feature.type, cells[positions[index]!]!));
    rows.push({ rowId, instance });
  }
  return { rows, failures };
}

function typedCell(type: ModelSchema['features'][number]['type'], cell: string): unknown {
  if (cell === '') return null;
  switch (type) {
    case 'number':
    case 'integer': {
      const value = parseNumberText(cell);
      return Number.isNaN(value) ? cell : value;
    }
    case 'boolean': {
      const code = parseBooleanText(cell);
      return code < 0 ? cell : code === 1;
    }
    default:
      return cell;
  }
}

/** Rows of a JSON Lines object (one object per line); a line that is not an object is a failure, not a fault. */
export function rowsFromJsonLines(text: string, options: { rowIdColumn?: string } = {}): ParsedRows {
  const rows: BatchRow[] = [];
  const failures: RowFailure[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!.trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      failures.push({ rowId: String(index + 1), error: `line ${index + 1} is not JSON: ${(error as Error).message}` });
      continue;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      failures.push({ rowId: String(index + 1), error: `line ${index + 1} is not a JSON object` });
      continue;
    }
    const instance = value as Record<string, unknown>;
    rows.push({ rowId: rowIdOf(instance, options.rowIdColumn, index), instance });
  }
  return { rows, failures };
}

function rowIdOf(record: Record<string, unknown>, column: string | undefined, index: number): string {
  const value = column === undefined ? undefined : record[column];
  return value === undefined || value === null || value === '' ? String(index + 1) : String(value);
}

export interface BatchScoringOptions {
  readonly schema: ModelSchema;
  readonly scorer: Scorer;
  readonly modelVersion: number;
  readonly format: BatchOutputFormat;
  /** Rows per session run (at most MAX_ROWS_PER_REQUEST). @default 5000 */
  readonly chunkRows?: number;
  /** Ties the capture records to the batch run. */
  readonly runId: string;
  /** The time the capture records carry. @default now */
  readonly at?: Date;
}

export interface BatchScoringResult {
  /** The output object: CSV with a header or JSON Lines (text), or a Parquet file (bytes; empty when no row was scored). */
  readonly output: string | Uint8Array;
  /** Capture records (JSON Lines) of the scored rows (every k-th row beyond MAX_CAPTURED_ROWS), for the drift check. */
  readonly capture: string;
  readonly scoredRows: number;
  readonly failures: RowFailure[];
}

/** Scores rows in chunks; a row the schema refuses fails alone, the others are scored. A scoring fault (the model) is thrown. */
export async function scoreRows(options: BatchScoringOptions, rows: readonly BatchRow[]): Promise<BatchScoringResult> {
  const chunkRows = options.chunkRows ?? 5000;
  if (!Number.isInteger(chunkRows) || chunkRows < 1 || chunkRows > MAX_ROWS_PER_REQUEST) {
    throw new Error(`chunkRows must be a whole number between 1 and ${MAX_ROWS_PER_REQUEST}, got ${chunkRows}`);
  }
  const { schema, format, modelVersion } = options;
  const at = (options.at ?? new Date()).toISOString();
  const output: string[] = format === 'csv' ? [csvHeader(schema)] : [];
  const columns = format === 'parquet' ? new ParquetColumns(schema) : undefined;
  const capture: string[] = [];
  const failures: RowFailure[] = [];
  let scoredRows = 0;
  // A systematic sample of at most MAX_CAPTURED_ROWS rows per object is plenty for the drift tests.
  const captureStride = Math.max(1, Math.ceil(rows.length / MAX_CAPTURED_ROWS));
  for (let start = 0; start < rows.length; start += chunkRows) {
    const chunk = rows.slice(start, start + chunkRows);
    const { accepted, refused, encoded: whole } = encodable(schema, chunk);
    failures.push(...refused);
    if (accepted.length === 0) continue;
    const encoded =
      whole ??
      encodeRows(
        schema,
        accepted.map((row) => row.instance),
      );
    const scores = await options.scorer.score(encoded.values, encoded.rows, encoded.columns);
    const predictions = toPredictions(schema, scores, encoded.rows);
    for (let index = 0; index < accepted.length; index++) {
      const row = accepted[index]!;
      const prediction = predictions[index]!;
      if (columns) columns.add(row.rowId, modelVersion, prediction);
      else output.push(format === 'csv' ? csvLine(row.rowId, modelVersion, prediction) : jsonLine(row.rowId, modelVersion, prediction));
      if ((start + index) % captureStride !== 0) continue;
      const record: CaptureRecord = {
        capturedAt: at,
        requestId: options.runId,
        modelName: schema.modelName,
        modelVersion,
        row: start + index,
        input: featuresOf(schema, row.instance),
        output: prediction,
      };
      capture.push(JSON.stringify(record));
    }
    scoredRows += accepted.length;
  }
  return {
    output: columns ? columns.toParquet() : output.length === 0 ? '' : `${output.join('\n')}\n`,
    capture: capture.length === 0 ? '' : `${capture.join('\n')}\n`,
    scoredRows,
    failures,
  };
}

/** Splits a chunk into rows the schema accepts and those it refuses (each with its problem), in order. */
function encodable(
  schema: ModelSchema,
  chunk: readonly BatchRow[],
): { accepted: BatchRow[]; refused: RowFailure[]; encoded?: EncodedRows } {
  try {
    const encoded = encodeRows(
      schema,
      chunk.map((row) => row.instance),
    );
    return { accepted: [...chunk], refused: [], encoded };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
  }
  const accepted: BatchRow[] = [];
  const refused: RowFailure[] = [];
  for (const row of chunk) {
    try {
      encodeRows(schema, [row.instance]);
      accepted.push(row);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      refused.push({ rowId: row.rowId, error: error.message.replace(/^instances\[0\]/, 'row') });
    }
  }
  return { accepted, refused };
}

/** The row's model inputs only: capture keeps what the model reads, never identifiers. */
function featuresOf(schema: ModelSchema, instance: Record<string, unknown> | unknown[]): Record<string, unknown> {
  return Object.fromEntries(
    schema.features.map((feature, index) => [feature.name, (Array.isArray(instance) ? instance[index] : instance[feature.name]) ?? null]),
  );
}

/**
 * The Parquet output's columns, filled row by row: row_id (string), model_version (int32),
 * prediction (the labels' own type — string, double or boolean — or double for regression) and
 * one probability_<label> (double) per class, the same columns as the CSV output.
 */
class ParquetColumns {
  private readonly rowIds: string[] = [];
  private readonly versions: number[] = [];
  private readonly predictions: Array<string | number | boolean> = [];
  private readonly probabilities: number[][];
  private readonly labels: readonly string[];
  private readonly predictionType: 'STRING' | 'DOUBLE' | 'BOOLEAN';

  constructor(schema: ModelSchema) {
    this.labels = schema.problemType === 'regression' ? [] : (schema.classLabels ?? []).map(String);
    this.probabilities = this.labels.map(() => []);
    const first = schema.classLabels?.[0];
    this.predictionType =
      schema.problemType === 'regression' || typeof first === 'number' ? 'DOUBLE' : typeof first === 'boolean' ? 'BOOLEAN' : 'STRING';
  }

  add(rowId: string, version: number, prediction: Prediction): void {
    this.rowIds.push(rowId);
    this.versions.push(version);
    const answer = 'value' in prediction ? prediction.value : prediction.label;
    this.predictions.push(this.predictionType === 'STRING' ? String(answer) : answer);
    const probabilities = 'probabilities' in prediction ? prediction.probabilities : [];
    for (let index = 0; index < this.probabilities.length; index++) this.probabilities[index]!.push(probabilities[index] ?? Number.NaN);
  }

  toParquet(): Uint8Array {
    if (this.rowIds.length === 0) return new Uint8Array();
    const buffer = parquetWriteBuffer({
      columnData: [
        { name: 'row_id', data: this.rowIds, type: 'STRING', nullable: false },
        { name: 'model_version', data: this.versions, type: 'INT32', nullable: false },
        { name: 'prediction', data: this.predictions, type: this.predictionType, nullable: false },
        ...this.labels.map((label, index) => ({
          name: `probability_${label}`,
          data: this.probabilities[index]!,
          type: 'DOUBLE' as const,
          nullable: false,
        })),
      ],
    });
    return new Uint8Array(buffer);
  }
}

function csvHeader(schema: ModelSchema): string {
  const labels = schema.problemType === 'regression' ? [] : (schema.classLabels ?? []).map((label) => `probability_${label}`);
  return ['row_id', 'model_version', 'prediction', ...labels].join(',');
}

function csvLine(rowId: string, version: number, prediction: Prediction): string {
  const answer = 'value' in prediction ? prediction.value : prediction.label;
  const probabilities = 'probabilities' in prediction ? prediction.probabilities : [];
  return [csvCell(rowId), version, csvCell(String(answer)), ...probabilities].join(',');
}

function csvCell(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

function jsonLine(rowId: string, version: number, prediction: Prediction): string {
  const answer = 'value' in prediction ? prediction.value : prediction.label;
  return JSON.stringify({
    rowId,
    modelVersion: version,
    prediction: answer,
    ...('probabilities' in prediction ? { probabilities: prediction.probabilities } : {}),
  });
}

/**
 * Whether a run's failed rows stay within its tolerance (`maxFailedPercent` of all rows read):
 * over it, the run fails and lists them; within it, the output stands with the failures listed.
 */
export function failuresTolerated(totalRows: number, failedRows: number, maxFailedPercent: number): boolean {
  if (totalRows === 0) return failedRows === 0;
  return (100 * failedRows) / totalRows <= maxFailedPercent;
}
