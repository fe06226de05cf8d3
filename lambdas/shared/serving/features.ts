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
  const { known, encodeObject, encodeArray, lookups } = compiledSchemaOf(schema);
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
      if (encodeArray(instance, values, offset, lookups) < 0) continue;
      // A value the fast encoder refused: every column again, to name each problem.
      for (let column = 0; column < columns; column++) {
        const encoded = encodeValue(features[column]!, instance[column]);
        if (typeof encoded !== 'number') report(`instances[${row}][${column}] (${features[column]!.name}): ${encoded}`);
      }
    } else if (typeof instance === 'object' && instance !== null) {
      const record = instance as Record<string, unknown>;
      // Counting keys allocates nothing; the names are looked at only when a row has more keys than features.
      let keys = 0;
      for (const _ in record) keys++;
      if (keys > columns) {
        for (const key of Object.keys(record)) {
          if (!known.has(key)) report(`instances[${row}].${key}: is not a column of model "${schema.modelName}"`);
        }
      }
      if (encodeObject(record, values, offset, lookups) < 0) continue;
      for (let column = 0; column < columns; column++) {
        const feature = features[column]!;
        const encoded = encodeValue(feature, record[feature.name]);
        if (typeof encoded !== 'number') report(`instances[${row}].${feature.name}: ${encoded}`);
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

/**
 * Encodes one row into values[offset …] and returns -1, or returns the first column whose value
 * it refuses (encodeRows then describes the row's problems with encodeValue, the reference).
 */
type RowEncoder<Row> = (row: Row, values: Float32Array, offset: number, lookups: CategoryLookups) => number;

/** Per column, a category's index by value (undefined for other types). */
type CategoryLookups = readonly (Map<unknown, number> | undefined)[];

/** What encodeRows derives from a schema once, not per request. */
interface CompiledSchema {
  /** The columns a row may carry: features and ignored columns. */
  readonly known: ReadonlySet<string>;
  /** For a row object keyed by feature name. */
  readonly encodeObject: RowEncoder<Record<string, unknown>>;
  /** For a row array in feature order. */
  readonly encodeArray: RowEncoder<readonly unknown[]>;
  readonly lookups: CategoryLookups;
}

const compiledSchemas = new WeakMap<ModelSchema, CompiledSchema>();

function compiledSchemaOf(schema: ModelSchema): CompiledSchema {
  let compiled = compiledSchemas.get(schema);
  if (!compiled) {
    compiled = {
      known: new Set([...schema.features.map((feature) => feature.name), ...schema.ignoredColumns]),
      encodeObject: rowEncoder(schema.features, (feature) => `row[${JSON.stringify(feature.name)}]`),
      encodeArray: rowEncoder(schema.features, (_, column) => `row[${column}]`),
      lookups: schema.features.map((feature) =>
        feature.type === 'category' ? new Map<unknown, number>(feature.allowedValues!.map((value, index) => [value, index])) : undefined,
      ),
    };
    compiledSchemas.set(schema, compiled);
  }
  return compiled;
}

/**
 * A row encoder generated once per schema, with each column's read and checks inline: a loop over
 * `row[feature.name]` is a megamorphic keyed load (the key changes every column) and a switch on
 * the feature's type per value, together most of a 100-row batch's encoding time; constant keys
 * compile to monomorphic named loads. It accepts exactly what encodeValue accepts (finite
 * numbers, integers, booleans, allowed categories, parseable timestamps, nulls where nullable),
 * and names enter the source only through JSON.stringify, so any feature name is a string literal.
 */
function rowEncoder<Row>(features: readonly FeatureSpec[], read: (feature: FeatureSpec, column: number) => string): RowEncoder<Row> {
  const body = features
    .map((feature, column) => {
      const target = `values[offset + ${column}]`;
      const check = {
        number: `if (typeof v === 'number' && v - v === 0) ${target} = v; else return ${column};`,
        integer: `if (typeof v === 'number' && v - v === 0 && Math.floor(v) === v) ${target} = v; else return ${column};`,
        boolean: `if (v === true) ${target} = 1; else if (v === false) ${target} = 0; else return ${column};`,
        category: `{ const index = lookups[${column}].get(v); if (index === undefined) return ${column}; ${target} = index; }`,
        timestamp: `{ const millis = typeof v === 'string' ? Date.parse(v) : NaN; if (millis !== millis) return ${column}; ${target} = millis / 1000; }`,
      }[feature.type];
      const nullable = feature.nullable ? `if (v === null || v === undefined) ${target} = NaN; else ` : '';
      return `v = ${read(feature, column)};\n${nullable}${check}`;
    })
    .join('\n');
  return new Function('row', 'values', 'offset', 'lookups', `let v;\n${body}\nreturn -1;`) as RowEncoder<Row>;
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
