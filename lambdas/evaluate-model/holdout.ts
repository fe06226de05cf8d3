/**
 * Reads the holdout dataset (one object or every object of a prefix; CSV, JSON Lines or Parquet
 * through the shared readers) into what scoring needs: the feature matrix encoded exactly as the
 * predict function encodes a request (lambdas/shared/serving/features.ts), the target of each row as a
 * class index or a value, and the row's group of the sensitive attribute. Rows that cannot be
 * scored or judged (no target, a target outside the class labels, a feature the model cannot
 * take) are skipped and counted, never guessed.
 */

import type { ModelSchema } from '../../contracts/serving-schema';
import { NotFoundError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, type StoredObject } from '../shared/object-store';
import {
  BOOLEAN_VALUES,
  CELL_NULL,
  CELL_VALUE,
  type ColumnBatch,
  ColumnDictionary,
  type ColumnSpec,
  type ColumnVector,
} from '../shared/readers/columns';
import { readDataset } from '../shared/readers/index';

export interface HoldoutColumns {
  readonly target: { readonly name: string; readonly type: ColumnSpec['type'] };
  readonly sensitiveAttribute?: { readonly name: string; readonly type: ColumnSpec['type'] };
}

export interface SkippedRows {
  /** The target cell is empty. */
  readonly nullTarget: number;
  /** The target is not one of the model's class labels (or not a number, for regression). */
  readonly invalidTarget: number;
  /** A feature is missing where the column is not nullable, or holds a value the model cannot take. */
  readonly invalidFeature: number;
  /** The row could not be split into the header's fields. */
  readonly unreadable: number;
  /** Up to MAX_SKIP_EXAMPLES lines `<object> row <n>: <why>`. */
  readonly examples: readonly string[];
}

export interface Holdout {
  readonly uri: string;
  readonly objects: readonly { readonly key: string; readonly etag: string }[];
  /** Rows kept for scoring. */
  readonly rows: number;
  /** Features per row, in the model's input order. */
  readonly width: number;
  /** Row-major [rows, width], as predict encodes it. */
  readonly features: Float32Array;
  /** Classification: the index of the row's label in the class labels; regression: the target value. */
  readonly targets: Float64Array;
  /** Index into `groupNames`, or -1 when the attribute is null or not configured. */
  readonly groups: Int32Array;
  readonly groupNames: readonly string[];
  readonly skipped: SkippedRows;
}

const MAX_SKIP_EXAMPLES = 20;

type MutableSkips = { -readonly [K in keyof SkippedRows]: K extends 'examples' ? string[] : number };

/** Reads and encodes the holdout; throws NotFoundError for a missing object or an empty prefix. */
export async function readHoldout(store: ObjectStore, uri: string, schema: ModelSchema, columns: HoldoutColumns): Promise<Holdout> {
  const location = parseS3Uri(uri, 'holdoutUri');
  const isPrefix = location.key === '' || location.key.endsWith('/');
  const objects: StoredObject[] = isPrefix
    ? await store.list(location.bucket, location.key)
    : [await store.head(location.bucket, location.key)];
  if (objects.length === 0) throw new NotFoundError(`no holdout objects under ${uri}`, { holdoutUri: uri });

  const encoder = new HoldoutEncoder(schema, columns);
  for (const object of objects) {
    const datasetObject = {
      key: object.key,
      stream: () => store.stream(location.bucket, object.key),
      ranges: async () => store.ranges(location.bucket, object.key, object.size),
    };
    for await (const batch of readDataset(datasetObject, encoder.specs)) encoder.add(batch, object.key);
  }
  return encoder.finish(uri, objects);
}

/** How a target cell becomes a class index (classification) or a value (regression); NaN when it cannot. */
type TargetReader = (vector: ColumnVector, row: number, dictionary: ColumnDictionary) => number;

function targetReader(schema: ModelSchema): TargetReader {
  if (schema.problemType === 'regression') {
    return (vector, row) => (vector.kind === 'numeric' ? vector.values[row]! : Number.NaN);
  }
  const textOf = (vector: ColumnVector, row: number, dictionary: ColumnDictionary) =>
    vector.kind === 'numeric' ? String(vector.values[row]) : dictionary.values[vector.codes[row]!]!;
  if (schema.classLabels) {
    const indexOfLabel = new Map(schema.classLabels.map((label, index) => [String(label), index]));
    return (vector, row, dictionary) => indexOfLabel.get(textOf(vector, row, dictionary)) ?? Number.NaN;
  }
  // No configured labels: the target is the output column's index itself.
  return (vector, row, dictionary) => {
    const index = Number(textOf(vector, row, dictionary));
    return Number.isInteger(index) && index >= 0 ? index : Number.NaN;
  };
}

class HoldoutEncoder {
  readonly specs: ColumnSpec[];
  private readonly width: number;
  private readonly readTarget: TargetReader;
  private readonly targetColumn: number;
  private readonly groupColumn: number;
  /** Per category feature: allowed-value index by dictionary code (filled as codes appear). */
  private readonly categoryIndex: Map<number, number>[];
  private readonly groupCodes = new Map<string, number>();
  private readonly groupNames: string[] = [];
  private readonly featureChunks: Float32Array[] = [];
  private readonly targetChunks: Float64Array[] = [];
  private readonly groupChunks: Int32Array[] = [];
  private rows = 0;
  private readonly skipped: MutableSkips = { nullTarget: 0, invalidTarget: 0, invalidFeature: 0, unreadable: 0, examples: [] };

  constructor(
    private readonly schema: ModelSchema,
    columns: HoldoutColumns,
  ) {
    const spec = (name: string, type: ColumnSpec['type']): ColumnSpec => ({
      name,
      type,
      required: true,
      dictionary: new ColumnDictionary(type === 'boolean' ? BOOLEAN_VALUES : []),
    });
    this.specs = schema.features.map((feature) => spec(feature.name, feature.type));
    this.width = schema.features.length;
    this.categoryIndex = schema.features.map(() => new Map());
    this.specs.push(spec(columns.target.name, columns.target.type));
    this.targetColumn = this.specs.length - 1;
    const sensitive = columns.sensitiveAttribute;
    if (sensitive) {
      const asFeature = this.specs.findIndex((existing) => existing.name === sensitive.name);
      if (asFeature >= 0) {
        this.groupColumn = asFeature;
      } else {
        this.specs.push(spec(sensitive.name, sensitive.type));
        this.groupColumn = this.specs.length - 1;
      }
    } else {
      this.groupColumn = -1;
    }
    this.readTarget = targetReader(schema);
  }

  add(batch: ColumnBatch, objectKey: string): void {
    const { rowCount } = batch;
    const features = new Float32Array(rowCount * this.width);
    const targets = new Float64Array(rowCount);
    const groups = new Int32Array(rowCount);
    const unreadable = new Map(batch.rowProblems.map((problem) => [problem.index, problem.message]));
    let kept = 0;
    rows: for (let row = 0; row < rowCount; row++) {
      const skip = (counter: Exclude<keyof SkippedRows, 'examples'>, why: string) => {
        this.skipped[counter]++;
        if (this.skipped.examples.length < MAX_SKIP_EXAMPLES)
          this.skipped.examples.push(`${objectKey} row ${batch.firstRowNumber + row}: ${why}`);
      };
      const problem = unreadable.get(row);
      if (problem !== undefined) {
        skip('unreadable', problem);
        continue;
      }
      const targetVector = batch.columns[this.targetColumn]!;
      const targetState = targetVector.states[row];
      if (targetState === CELL_NULL) {
        skip('nullTarget', `${this.specs[this.targetColumn]!.name} is empty`);
        continue;
      }
      const target =
        targetState === CELL_VALUE ? this.readTarget(targetVector, row, this.specs[this.targetColumn]!.dictionary) : Number.NaN;
      if (Number.isNaN(target)) {
        skip(
          'invalidTarget',
          `${this.specs[this.targetColumn]!.name} ${JSON.stringify(batch.cellText(this.targetColumn, row))} is not a class of the model`,
        );
        continue;
      }
      const offset = kept * this.width;
      for (let column = 0; column < this.width; column++) {
        const encoded = this.encodeFeature(column, batch.columns[column]!, row);
        if (encoded === undefined) {
          skip('invalidFeature', `${this.schema.features[column]!.name} ${JSON.stringify(batch.cellText(column, row))} cannot be encoded`);
          continue rows;
        }
        features[offset + column] = encoded;
      }
      targets[kept] = target;
      groups[kept] = this.groupColumn < 0 ? -1 : this.groupOf(batch.columns[this.groupColumn]!, row);
      kept++;
    }
    this.featureChunks.push(features.subarray(0, kept * this.width));
    this.targetChunks.push(targets.subarray(0, kept));
    this.groupChunks.push(groups.subarray(0, kept));
    this.rows += kept;
  }

  /** The float32 encoding of one feature cell, as predict's encodeValue; undefined when the model cannot take it. */
  private encodeFeature(column: number, vector: ColumnVector, row: number): number | undefined {
    const feature = this.schema.features[column]!;
    const state = vector.states[row];
    if (state === CELL_NULL) return feature.nullable ? Number.NaN : undefined;
    if (state !== CELL_VALUE) return undefined;
    if (vector.kind === 'numeric') {
      // The readers keep timestamps as epoch milliseconds; the model takes epoch seconds.
      return feature.type === 'timestamp' ? vector.values[row]! / 1000 : vector.values[row]!;
    }
    const code = vector.codes[row]!;
    if (feature.type === 'boolean') return code;
    const cache = this.categoryIndex[column]!;
    let index = cache.get(code);
    if (index === undefined) {
      index = feature.allowedValues!.indexOf(this.specs[column]!.dictionary.values[code]!);
      cache.set(code, index);
    }
    return index < 0 ? undefined : index;
  }

  private groupOf(vector: ColumnVector, row: number): number {
    if (vector.states[row] !== CELL_VALUE) return -1;
    const name =
      vector.kind === 'numeric' ? String(vector.values[row]) : this.specs[this.groupColumn]!.dictionary.values[vector.codes[row]!]!;
    let code = this.groupCodes.get(name);
    if (code === undefined) {
      code = this.groupNames.push(name) - 1;
      this.groupCodes.set(name, code);
    }
    return code;
  }

  finish(uri: string, objects: readonly StoredObject[]): Holdout {
    return {
      uri,
      objects: objects.map((object) => ({ key: object.key, etag: object.etag })),
      rows: this.rows,
      width: this.width,
      features: concat(Float32Array, this.featureChunks),
      targets: concat(Float64Array, this.targetChunks),
      groups: concat(Int32Array, this.groupChunks),
      groupNames: this.groupNames,
      skipped: this.skipped,
    };
  }
}

function concat<T extends Float32Array | Float64Array | Int32Array>(type: { new (length: number): T }, chunks: readonly T[]): T {
  const result = new type(chunks.reduce((total, chunk) => total + chunk.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk as never, offset);
    offset += chunk.length;
  }
  return result;
}
