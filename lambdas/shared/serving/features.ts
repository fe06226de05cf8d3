/**
 * Encodes request rows as the serving contract (contracts/serving-schema.ts) says: each value
 * of a model input becomes a float32 (numbers as they are, booleans 0/1, categories as their
 * index in `allowedValues`, timestamps as epoch seconds, a null in a nullable feature as NaN).
 * Rows are checked here, before scoring, so a bad request is a 400 naming the row and the
 * column instead of a model error.
 */

import { MAX_ROWS_PER_REQUEST } from '../../../contracts/limits';
import type { FeatureSpec, ModelSchema } from '../../../contracts/serving-schema';
import { ValidationError } from '../errors';

/** How many row/column problems one ValidationError lists in its details. */
const MAX_REPORTED_PROBLEMS = 20;

export interface EncodedRows {
  /** Row-major [rows, features]. */
  readonly values: Float32Array;
  readonly rows: number;
  readonly columns: number;
}

/**
 * Checks every row against the schema and encodes the batch. Rows are objects keyed by
 * feature name or arrays in feature order. Throws ValidationError naming the first problem
 * (`instances[3].monthly_charges: ...`) and listing up to 20 in `details.problems`.
 */
export function encodeRows(schema: ModelSchema, instances: readonly unknown[]): EncodedRows {
  if (instances.length === 0) throw new ValidationError('instances must hold at least one row, got []');
  if (instances.length > MAX_ROWS_PER_REQUEST) {
    throw new ValidationError(`instances may hold at most ${MAX_ROWS_PER_REQUEST} rows, got ${instances.length}`);
  }
  const { features } = schema;
  const columns = features.length;
  const values = new Float32Array(instances.length * columns);
  const { known, readFeatures } = compiledSchemaOf(schema);
  const featureValues = new Array<unknown>(columns);
  const problems: string[] = [];
  const report = (problem: string) => {
    if (problems.length < MAX_REPORTED_PROBLEMS) problems.push(problem);
  };

  for (let row = 0; row < instances.length; row++) {
    const instance = instances[row];
    const offset = row * columns;
    if (Array.isArray(instance)) {
      if (instance.length !== columns) {
        report(
          `instances[${row}]: must hold ${columns} values in feature order (${features.map((f) => f.name).join(', ')}), got ${instance.length}`,
        );
        continue;
      }
      for (let column = 0; column < columns; column++) {
        const encoded = encodeValue(features[column]!, instance[column]);
        if (typeof encoded === 'number') values[offset + column] = encoded;
        else report(`instances[${row}][${column}] (${features[column]!.name}): ${encoded}`);
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const record = instance as Record<string, unknown>;
      readFeatures(record, featureValues);
      let present = 0;
      for (let column = 0; column < columns; column++) {
        const feature = features[column]!;
        const value = featureValues[column];
        if (value !== undefined) present++;
        const encoded = encodeValue(feature, value);
        if (typeof encoded === 'number') values[offset + column] = encoded;
        else report(`instances[${row}].${feature.name}: ${encoded}`);
      }
      // Counting keys allocates nothing; the names are looked at only when a row has keys beyond its
      // features (a misspelt nullable feature must not pass as a null one).
      let keys = 0;
      for (const _ in record) keys++;
      if (keys > present) {
        for (const key of Object.keys(record)) {
          if (!known.has(key)) report(`instances[${row}].${key}: is not a column of model "${schema.modelName}"`);
        }
      }
    } else {
      report(`instances[${row}]: must be an object keyed by feature name or an array in feature order, got ${describe(instance)}`);
    }
  }
  if (problems.length > 0) {
    throw new ValidationError(problems[0]!, { problems });
  }
  return { values, rows: instances.length, columns };
}

/** What encodeRows derives from a schema once, not per request. */
interface CompiledSchema {
  /** The columns a row may carry: features and ignored columns. */
  readonly known: ReadonlySet<string>;
  /** Copies a row object's feature values, in feature order, into `into`. */
  readonly readFeatures: (record: Record<string, unknown>, into: unknown[]) => void;
}

const compiledSchemas = new WeakMap<ModelSchema, CompiledSchema>();

function compiledSchemaOf(schema: ModelSchema): CompiledSchema {
  let compiled = compiledSchemas.get(schema);
  if (!compiled) {
    compiled = {
      known: new Set([...schema.features.map((feature) => feature.name), ...schema.ignoredColumns]),
      readFeatures: featureReader(schema.features),
    };
    compiledSchemas.set(schema, compiled);
  }
  return compiled;
}

/**
 * `record[feature.name]` in a loop is a megamorphic keyed load (the key changes every
 * column), about 70% of encoding time for a 100-row batch. The reader is generated once per
 * schema with one constant-key load per feature, which V8 turns into monomorphic named loads.
 * Names enter the source only through JSON.stringify, so any feature name is a string literal.
 */
function featureReader(features: readonly FeatureSpec[]): CompiledSchema['readFeatures'] {
  const body = features.map((feature, column) => `into[${column}] = record[${JSON.stringify(feature.name)}];`).join('\n');
  return new Function('record', 'into', body) as CompiledSchema['readFeatures'];
}

/**
 * The value's float32 encoding, or what is wrong with it. Problems are returned rather than
 * reported so the hot path builds no strings: the caller adds the row and column only on failure.
 */
function encodeValue(feature: FeatureSpec, value: unknown): number | string {
  if (value === null || value === undefined) {
    if (feature.nullable) return Number.NaN;
    return `is required (${feature.type})${value === null ? ', got null' : ''}`;
  }
  switch (feature.type) {
    case 'number':
    case 'integer': {
      if (typeof value !== 'number') return `must be ${feature.type === 'integer' ? 'an integer' : 'a number'}, got ${describe(value)}`;
      if (!Number.isFinite(value)) return `must be a finite number, got ${value}`;
      if (feature.type === 'integer' && !Number.isInteger(value)) return `must be an integer, got ${value}`;
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') return `must be true or false, got ${describe(value)}`;
      return value ? 1 : 0;
    case 'category': {
      const index = typeof value === 'string' ? feature.allowedValues!.indexOf(value) : -1;
      return index < 0 ? `must be one of ${feature.allowedValues!.join(', ')}, got ${describe(value)}` : index;
    }
    case 'timestamp': {
      const millis = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      return Number.isNaN(millis) ? `must be an ISO-8601 timestamp string, got ${describe(value)}` : millis / 1000;
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null) return 'null';
  return Array.isArray(value) ? 'an array' : typeof value;
}
