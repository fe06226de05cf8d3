/**
 * One entry point for the dataset readers: picks CSV, JSON Lines or Parquet from the object key
 * (or an explicit format) and yields the same columnar batches whatever the format.
 */
import { DatasetFormatError } from '../errors';
import type { ByteSource } from './bytes';
import type { ColumnBatch, ColumnSpec } from './columns';
import { readCsv } from './csv';
import { readJsonLines } from './jsonl';
import { type AsyncBuffer, readParquet } from './parquet';

export const DATASET_FORMATS = ['csv', 'jsonl', 'parquet'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

/** A dataset object as the readers need it: text formats stream it, Parquet reads byte ranges. */
export interface DatasetObject {
  readonly key: string;
  stream(): Promise<ByteSource>;
  ranges(): Promise<AsyncBuffer>;
}

export interface ReadOptions {
  /** Overrides the format the key's suffix implies. */
  readonly format?: DatasetFormat;
  /** CSV delimiter, default ','. */
  readonly delimiter?: string;
}

/** `.csv`, `.tsv`, `.jsonl`, `.ndjson`, `.parquet`, each optionally followed by `.gz`. */
export function formatOfKey(key: string): DatasetFormat {
  const name = key.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (name.endsWith('.parquet') || name.endsWith('.pq')) return 'parquet';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  if (name.endsWith('.csv') || name.endsWith('.tsv') || name.endsWith('.txt')) return 'csv';
  throw new DatasetFormatError(
    `cannot tell the format of "${key}": name it .csv, .jsonl or .parquet (optionally with .gz), or pass the format`,
    { key },
  );
}

export async function* readDataset(
  object: DatasetObject,
  specs: readonly ColumnSpec[],
  options: ReadOptions = {},
): AsyncGenerator<ColumnBatch> {
  const format = options.format ?? formatOfKey(object.key);
  if (format === 'parquet') {
    yield* readParquet(await object.ranges(), specs);
  } else if (format === 'jsonl') {
    yield* readJsonLines(await object.stream(), specs);
  } else {
    const delimiter =
      options.delimiter ??
      (object.key
        .toLowerCase()
        .replace(/\.(gz|gzip)$/, '')
        .endsWith('.tsv')
        ? '\t'
        : ',');
    yield* readCsv(await object.stream(), specs, { delimiter });
  }
}
