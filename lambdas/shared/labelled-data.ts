/**
 * A labelled dataset as a model sees it: the feature matrix encoded exactly as the predict
 * function encodes a request (numbers as they are, booleans 0/1, categories as their index in
 * `allowedValues`, timestamps as epoch seconds, missing or unparseable cells NaN), the target per
 * row and, when configured, the sensitive attribute per row. Read with the streaming dataset
 * readers, so CSV, JSON Lines and Parquet (gzipped too) all work, one object or a prefix.
 */
import type { ColumnConfig, ModelDocument } from '../../lib/config';
import { NotFoundError, ValidationError } from './errors';
import { type ObjectStore, parseS3Uri } from './object-store';
import { BOOLEAN_VALUES, CELL_VALUE, type ColumnBatch, ColumnDictionary, type ColumnSpec } from './readers/columns';
import { readDataset } from './readers/index';

export interface LabelledData {
  readonly rows: number;
  readonly featureNames: readonly string[];
  /** Row-major [rows, features], float32 as the model's input tensor. */
  readonly features: Float32Array;
  /** Binary classification: 1 for the positive class (the second class label), else 0. Regression: the value. */
  readonly target: Float64Array;
  /** The sensitive attribute's value per row (null when missing); absent when none is configured. */
  readonly groups?: readonly (string | null)[];
  /** Rows left out because their target was missing or unreadable, or the row could not be split. */
  readonly skippedRows: number;
}

/** The value of the positive class of a binary target, as classLabelsFor in the serving contract. */
function positiveCode(target: ColumnConfig): (value: number) => boolean {
  if (target.type === 'boolean' || target.allowedValues) return (code) => code === 1;
  const positive = (target.min ?? 0) + 1;
  return (value) => value === positive;
}

export async function readLabelledData(store: ObjectStore, datasetUri: string, model: ModelDocument): Promise<LabelledData> {
  if (model.problemType === 'multiclass-classification') {
    throw new ValidationError(`model "${model.name}": multiclass targets are not supported by this reader yet`);
  }
  const byName = new Map(model.columns.map((column) => [column.name, column]));
  const wanted = [...new Set([...model.features, model.target, ...(model.sensitiveAttribute ? [model.sensitiveAttribute] : [])])];
  const specs: ColumnSpec[] = wanted.map((name) => {
    const column = byName.get(name);
    if (!column) throw new ValidationError(`model "${model.name}": "${name}" is not one of its columns`);
    const seed = column.type === 'boolean' ? BOOLEAN_VALUES : (column.allowedValues ?? []);
    return { name, type: column.type, required: true, dictionary: new ColumnDictionary(seed) };
  });
  const featureSpecs = model.features.map((name) => wanted.indexOf(name));
  /** Codes below this are allowed values (the dictionaries were seeded with them); later codes are unknown. */
  const knownCodes = specs.map((spec) => spec.dictionary.size);
  const targetIndex = wanted.indexOf(model.target);
  const groupIndex = model.sensitiveAttribute ? wanted.indexOf(model.sensitiveAttribute) : -1;
  const targetColumn = byName.get(model.target)!;
  const isPositive = positiveCode(targetColumn);
  const binary = model.problemType === 'binary-classification';

  const features: number[] = [];
  const target: number[] = [];
  const groups: (string | null)[] = [];
  let skippedRows = 0;

  const { bucket, key } = parseS3Uri(datasetUri, 'datasetUri');
  const objects = key === '' || key.endsWith('/') ? await store.list(bucket, key) : [await store.head(bucket, key)];
  if (objects.length === 0) throw new NotFoundError(`no dataset objects under ${datasetUri}`, { datasetUri });

  const addBatch = (batch: ColumnBatch) => {
    const skipped = new Set(batch.rowProblems.map((problem) => problem.index));
    const targetVector = batch.columns[targetIndex];
    if (!targetVector) throw new ValidationError(`${datasetUri} has no target column "${model.target}"`);
    for (let row = 0; row < batch.rowCount; row++) {
      if (skipped.has(row) || targetVector.states[row] !== CELL_VALUE) {
        skippedRows++;
        continue;
      }
      const raw = targetVector.kind === 'numeric' ? targetVector.values[row]! : targetVector.codes[row]!;
      target.push(binary ? (isPositive(raw) ? 1 : 0) : raw);
      for (const index of featureSpecs) features.push(encodeCell(specs[index]!, knownCodes[index]!, batch, index, row));
      if (groupIndex >= 0) {
        const vector = batch.columns[groupIndex];
        groups.push(
          vector && vector.kind === 'coded' && vector.states[row] === CELL_VALUE
            ? specs[groupIndex]!.dictionary.values[vector.codes[row]!]!
            : null,
        );
      }
    }
  };

  for (const object of objects) {
    const source = {
      key: object.key,
      stream: () => store.stream(bucket, object.key),
      ranges: async () => store.ranges(bucket, object.key, object.size),
    };
    for await (const batch of readDataset(source, specs)) addBatch(batch);
  }
  return {
    rows: target.length,
    featureNames: model.features,
    features: Float32Array.from(features),
    target: Float64Array.from(target),
    ...(groupIndex >= 0 ? { groups } : {}),
    skippedRows,
  };
}

function encodeCell(spec: ColumnSpec, knownCodes: number, batch: ColumnBatch, index: number, row: number): number {
  const vector = batch.columns[index];
  if (!vector || vector.states[row] !== CELL_VALUE) return Number.NaN;
  if (vector.kind === 'numeric') {
    const value = vector.values[row]!;
    // Readers give timestamps in epoch milliseconds; the serving contract uses seconds.
    return spec.type === 'timestamp' ? value / 1000 : value;
  }
  const code = vector.codes[row]!;
  if (spec.type === 'boolean') return code;
  // Categories were seeded with allowedValues, so a known value's code is its index.
  if (spec.type === 'category' && code < knownCodes) return code;
  return Number.NaN;
}
