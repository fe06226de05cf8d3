/**
 * Parquet reader on hyparquet (pure JavaScript, no native addon or WebAssembly, ~60 KB bundled):
 * reads the footer, then one row group at a time through ranged reads of only the schema's
 * columns, so the object is never loaded whole. Column chunks arrive as typed arrays (or plain
 * arrays when a column has nulls) and are copied into the batch's vectors.
 */
import { type AsyncBuffer, type FileMetaData, parquetMetadataAsync, parquetRead, parquetSchema } from 'hyparquet';
import { DatasetFormatError } from '../errors';
import {
  allocateVectors,
  CELL_INVALID,
  CELL_VALUE,
  type ColumnBatch,
  type ColumnSpec,
  type ColumnVector,
  planColumns,
  startBatch,
  storeValue,
} from './columns';

export type { AsyncBuffer };

/** Timestamps and dates as epoch milliseconds, the profile's unit, instead of Date objects. */
const PARSERS = {
  timestampFromMilliseconds: (millis: bigint) => Number(millis),
  timestampFromMicroseconds: (micros: bigint) => Number(micros) / 1e3,
  timestampFromNanoseconds: (nanos: bigint) => Number(nanos) / 1e6,
  dateFromDays: (days: number) => days * 86_400_000,
};

type ColumnValues = ArrayLike<unknown> & { readonly length: number };

export async function* readParquet(file: AsyncBuffer, specs: readonly ColumnSpec[]): AsyncGenerator<ColumnBatch> {
  if (file.byteLength === 0) throw new DatasetFormatError('empty file: the Parquet object has no bytes');
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file, { parsers: PARSERS });
  } catch (error) {
    throw new DatasetFormatError(`not a readable Parquet file: ${(error as Error).message}`);
  }
  const header = parquetSchema(metadata).children.map((child) => child.element.name);
  const positions = planColumns(header, specs);
  const present = specs.filter((_, index) => positions[index]! >= 0);
  let vectors: ColumnVector[] = [];
  let groupStart = 0;
  for (const group of metadata.row_groups) {
    const rowCount = Number(group.num_rows);
    const groupEnd = groupStart + rowCount;
    if (vectors.length === 0 || vectors[0]!.states.length < rowCount) vectors = allocateVectors(specs, rowCount);
    const raw = new Map<string, { data: ColumnValues; offset: number }[]>();
    try {
      await parquetRead({
        file,
        metadata,
        columns: present.map((spec) => spec.name),
        rowStart: groupStart,
        rowEnd: groupEnd,
        parsers: PARSERS,
        onChunk: ({ columnName, columnData, rowStart }) => {
          const pieces = raw.get(columnName) ?? [];
          pieces.push({ data: columnData as ColumnValues, offset: rowStart - groupStart });
          raw.set(columnName, pieces);
        },
      });
    } catch (error) {
      throw new DatasetFormatError(`cannot read Parquet row group at row ${groupStart + 1}: ${(error as Error).message}`);
    }
    startBatch(specs);
    specs.forEach((spec, column) => {
      if (positions[column]! < 0) return;
      const vector = vectors[column]!;
      for (const { data, offset } of raw.get(spec.name) ?? []) {
        const from = Math.max(0, -offset);
        const to = Math.min(data.length, rowCount - offset);
        if (vector.kind === 'numeric' && (data instanceof Float64Array || data instanceof Float32Array || data instanceof Int32Array)) {
          // Dense numeric chunk: no nulls, every value finite by construction of the type (floats are checked).
          for (let i = from; i < to; i++) {
            const value = data[i]!;
            vector.values[i + offset] = value;
            vector.states[i + offset] = Number.isFinite(value) ? CELL_VALUE : CELL_INVALID;
          }
        } else {
          for (let i = from; i < to; i++) storeValue(vector, spec.type, spec.dictionary, i + offset, data[i]);
        }
      }
    });
    const valueAt = (name: string, row: number): unknown => {
      for (const { data, offset } of raw.get(name) ?? []) {
        if (row - offset >= 0 && row - offset < data.length) return data[row - offset];
      }
      return undefined;
    };
    yield {
      rowCount,
      firstRowNumber: groupStart + 1,
      columns: specs.map((_, column) => (positions[column]! >= 0 ? vectors[column] : undefined)),
      rowProblems: [],
      cellText: (column, row) => displayValue(valueAt(specs[column]!.name, row)),
      rowText: (row) => JSON.stringify(Object.fromEntries(present.map((spec) => [spec.name, jsonValue(valueAt(spec.name, row))]))),
    };
    groupStart = groupEnd;
  }
}

function displayValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : String(value);
}

function jsonValue(value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
