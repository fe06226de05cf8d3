/**
 * The pure parts of the predict function: row validation and encoding, reading the model's
 * output tensor, and capture batching (with a fake writer and clock).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_ROWS_PER_REQUEST } from '../../../../contracts/limits';
import type { ModelSchema } from '../../../../contracts/serving-schema';
import { ValidationError } from '../../../../lambdas/shared/errors';
import { CaptureBuffer } from '../../../../lambdas/shared/serving/capture';
import { encodeRows } from '../../../../lambdas/shared/serving/features';
import { ModelOutputError, toPredictions } from '../../../../lambdas/shared/serving/predictions';
import { CHURN_SCHEMA } from '../../../../testkit/churn-model';

const row = { tenure_months: 12, monthly_charges: 70.5, contract: 'one-year', auto_pay: true };

function validationError(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('expected a ValidationError');
}

/** Every feature type, nullable and not, to check the generated encoder against the contract's rules. */
const ALL_TYPES: ModelSchema = {
  modelName: 'all',
  problemType: 'regression',
  features: [
    { name: 'n', type: 'number', nullable: false },
    { name: 'i', type: 'integer', nullable: false },
    { name: 'b', type: 'boolean', nullable: false },
    { name: 'c', type: 'category', nullable: false, allowedValues: ['a', 'b', '1'] },
    { name: 't', type: 'timestamp', nullable: false },
    { name: 'nullable number', type: 'number', nullable: true },
    { name: 'nullable category', type: 'category', nullable: true, allowedValues: ['x'] },
  ],
  ignoredColumns: [],
};

/** The serving contract's encoding of one value, written out independently: a number, or undefined when refused. */
function contractEncoding(feature: ModelSchema['features'][number], value: unknown): number | undefined {
  if (value === null || value === undefined) return feature.nullable ? Number.NaN : undefined;
  switch (feature.type) {
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? Math.fround(value) : undefined;
    case 'integer':
      return typeof value === 'number' && Number.isInteger(value) ? Math.fround(value) : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? Number(value) : undefined;
    case 'category': {
      const index = feature.allowedValues!.indexOf(value as string);
      return typeof value === 'string' && index >= 0 ? index : undefined;
    }
    case 'timestamp': {
      const millis = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      return Number.isNaN(millis) ? undefined : Math.fround(millis / 1000);
    }
  }
}

describe('encodeRows', () => {
  it('accepts and encodes exactly what the serving contract says, for objects and arrays alike', () => {
    const anyValue = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.boolean(),
      fc.constantFrom('a', 'b', '1', 'x', '', '2026-05-01T10:00:00Z', 'not a time', null, undefined, 1, 0, -0, 1.5),
      fc.constant({}),
      fc.constant([]),
    );
    fc.assert(
      fc.property(fc.array(anyValue, { minLength: 7, maxLength: 7 }), (cells) => {
        const expected = ALL_TYPES.features.map((feature, column) => contractEncoding(feature, cells[column]));
        const record = Object.fromEntries(ALL_TYPES.features.map((feature, column) => [feature.name, cells[column]]));
        for (const instance of [record, cells]) {
          if (expected.every((value) => value !== undefined)) {
            expect(Array.from(encodeRows(ALL_TYPES, [instance]).values)).toEqual(expected);
          } else {
            const problems = validationError(() => encodeRows(ALL_TYPES, [instance])).details?.problems as string[];
            expect(problems).toHaveLength(expected.filter((value) => value === undefined).length);
          }
        }
      }),
    );
  });

  it('encodes numbers as they are, categories as their index, booleans as 0/1 and a null in a nullable feature as NaN', () => {
    const encoded = encodeRows(CHURN_SCHEMA, [row, { ...row, contract: 'two-year', auto_pay: null, customer_id: 'c-1' }]);
    expect(encoded.rows).toBe(2);
    expect(encoded.columns).toBe(4);
    expect(Array.from(encoded.values)).toEqual([12, 70.5, 1, 1, 12, 70.5, 2, Number.NaN]);
  });

  it('accepts rows as arrays in feature order', () => {
    const encoded = encodeRows(CHURN_SCHEMA, [[3, 20, 'month-to-month', false]]);
    expect(Array.from(encoded.values)).toEqual([3, 20, 0, 0]);
  });

  it('names the row and the column of a NaN value', () => {
    const error = validationError(() => encodeRows(CHURN_SCHEMA, [row, { ...row, monthly_charges: Number.NaN }]));
    expect(error.message).toBe('instances[1].monthly_charges: must be a finite number, got NaN');
    expect(error.httpStatus).toBe(400);
  });

  it('refuses infinities, strings in numeric features and fractional integers', () => {
    const error = validationError(() =>
      encodeRows(CHURN_SCHEMA, [
        { ...row, monthly_charges: Number.POSITIVE_INFINITY },
        { ...row, monthly_charges: '70' },
        { ...row, tenure_months: 1.5 },
      ]),
    );
    expect(error.details.problems).toEqual([
      'instances[0].monthly_charges: must be a finite number, got Infinity',
      'instances[1].monthly_charges: must be a number, got "70"',
      'instances[2].tenure_months: must be an integer, got 1.5',
    ]);
  });

  it('names a missing feature, an unknown category and an unknown column', () => {
    const { tenure_months: _dropped, ...withoutTenure } = row;
    const error = validationError(() =>
      encodeRows(CHURN_SCHEMA, [withoutTenure, { ...row, contract: 'weekly' }, { ...row, monthly_charge: 3 }]),
    );
    expect(error.details.problems).toEqual([
      'instances[0].tenure_months: is required (integer)',
      'instances[1].contract: must be one of month-to-month, one-year, two-year, got "weekly"',
      'instances[2].monthly_charge: is not a column of model "churn"',
    ]);
  });

  it('refuses an array row of the wrong length, listing the expected feature order', () => {
    const error = validationError(() => encodeRows(CHURN_SCHEMA, [[1, 2, 'one-year']]));
    expect(error.message).toBe(
      'instances[0]: must hold 4 values in feature order (tenure_months, monthly_charges, contract, auto_pay), got 3',
    );
  });

  it('refuses a row that is neither an object nor an array', () => {
    expect(validationError(() => encodeRows(CHURN_SCHEMA, [42])).message).toBe(
      'instances[0]: must be an object keyed by feature name or an array in feature order, got 42',
    );
  });

  it('refuses an empty batch and a batch over the row limit', () => {
    expect(validationError(() => encodeRows(CHURN_SCHEMA, [])).message).toBe('instances must hold at least one row, got []');
    const tooMany = Array.from({ length: MAX_ROWS_PER_REQUEST + 1 }, () => row);
    expect(validationError(() => encodeRows(CHURN_SCHEMA, tooMany)).message).toBe(
      `instances may hold at most ${MAX_ROWS_PER_REQUEST} rows, got ${MAX_ROWS_PER_REQUEST + 1}`,
    );
  });
});

describe('toPredictions', () => {
  it('reads a one-column binary output as the positive-class probability and labels it at 0.5', () => {
    const predictions = toPredictions(CHURN_SCHEMA, { data: Float32Array.from([0.25, 0.75]), dims: [2, 1] }, 2);
    expect(predictions).toEqual([
      { label: 0, probabilities: [0.75, 0.25] },
      { label: 1, probabilities: [0.25, 0.75] },
    ]);
  });

  it('picks the most probable class of a multiclass output and its configured label', () => {
    const schema: ModelSchema = { ...CHURN_SCHEMA, problemType: 'multiclass-classification', classLabels: ['low', 'mid', 'high'] };
    const [prediction] = toPredictions(schema, { data: Float32Array.from([0.25, 0.5, 0.25]), dims: [1, 3] }, 1);
    expect(prediction).toEqual({ label: 'mid', probabilities: [0.25, 0.5, 0.25] });
  });

  it('returns the value of a regression output', () => {
    const schema: ModelSchema = { ...CHURN_SCHEMA, problemType: 'regression', classLabels: undefined };
    expect(toPredictions(schema, { data: Float32Array.from([1.5]), dims: [1, 1] }, 1)).toEqual([{ value: 1.5 }]);
  });

  it('treats an output that does not fit the configuration as a model fault', () => {
    expect(() => toPredictions(CHURN_SCHEMA, { data: new Float32Array(3), dims: [1, 3] }, 1)).toThrow(ModelOutputError);
    expect(() => toPredictions(CHURN_SCHEMA, { data: new Float32Array(2), dims: [2, 1] }, 3)).toThrow(
      'model output has shape [2, 1], expected [3, k] for 3 rows',
    );
  });
});

describe('CaptureBuffer', () => {
  const clock = { now: 0 };
  const writes: Array<{ key: string; body: string }> = [];
  const buffer = (overrides: Partial<ConstructorParameters<typeof CaptureBuffer>[0]> = {}) =>
    new CaptureBuffer({
      modelName: 'churn',
      samplePercent: 100,
      maxRecords: 3,
      maxAgeMs: 1000,
      now: () => clock.now,
      write: async (key, body) => {
        writes.push({ key, body });
      },
      ...overrides,
    });

  it('samples the configured share of requests', () => {
    let draw = 0;
    const draws = [0.05, 0.19, 0.2, 0.9];
    const capture = buffer({ samplePercent: 20, random: () => draws[draw++]! });
    expect(draws.map(() => capture.sample())).toEqual([true, true, false, false]);
    expect(buffer({ samplePercent: 0 }).sample()).toBe(false);
  });

  it('keeps only the listed fields of a captured row (features and opted-in columns), the rest of what a client sent left out', async () => {
    writes.length = 0;
    const capture = buffer({ keepFields: ['tenure_months', 'gender'], maxRecords: 2 });
    capture.add(
      'request-9',
      1,
      [
        { tenure_months: 3, customer_id: 'c-1', gender: 'f' },
        { tenure_months: 4, email: 'x@example.com' },
      ],
      [{ label: 0 }, { label: 1 }],
    );
    await capture.flush();
    const inputs = writes[0]!.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).input);
    expect(inputs).toEqual([{ tenure_months: 3, gender: 'f' }, { tenure_months: 4 }]);
  });

  it('writes one JSON Lines object per batch, one line per row, under an hourly partition', async () => {
    writes.length = 0;
    clock.now = Date.parse('2026-11-23T10:15:00.000Z');
    const capture = buffer();
    capture.add('request-1', 4, [{ a: 1 }, { a: 2 }], [{ label: 0 }, { label: 1 }]);
    expect(capture.due()).toBe(false);
    capture.add('request-2', 4, [{ a: 3 }], [{ label: 1 }]);
    expect(capture.due()).toBe(true);
    expect(await capture.flush()).toEqual({ written: 3, dropped: 0 });
    expect(writes).toHaveLength(1);
    expect(writes[0]!.key).toMatch(/^churn\/serverless\/2026\/11\/23\/10\/2026-11-23T10-15-00-000Z-[0-9a-f-]{36}\.jsonl$/);
    const lines = writes[0]!.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toEqual([
      {
        capturedAt: '2026-11-23T10:15:00.000Z',
        requestId: 'request-1',
        modelName: 'churn',
        modelVersion: 4,
        row: 0,
        input: { a: 1 },
        output: { label: 0 },
      },
      {
        capturedAt: '2026-11-23T10:15:00.000Z',
        requestId: 'request-1',
        modelName: 'churn',
        modelVersion: 4,
        row: 1,
        input: { a: 2 },
        output: { label: 1 },
      },
      {
        capturedAt: '2026-11-23T10:15:00.000Z',
        requestId: 'request-2',
        modelName: 'churn',
        modelVersion: 4,
        row: 0,
        input: { a: 3 },
        output: { label: 1 },
      },
    ]);
    expect(capture.size).toBe(0);
  });

  it('becomes due when its oldest record reaches the maximum age', () => {
    clock.now = 0;
    const capture = buffer({ maxRecords: 100 });
    capture.add('request-1', 1, [{}], [{}]);
    clock.now = 999;
    expect(capture.due()).toBe(false);
    clock.now = 1000;
    expect(capture.due()).toBe(true);
  });

  it('drops a batch whose write fails or hangs, and reports it instead of throwing', async () => {
    const failing = buffer({ write: async () => Promise.reject(new Error('AccessDenied')) });
    failing.add('request-1', 1, [{}, {}], [{}, {}]);
    const failed = await failing.flush();
    expect(failed).toMatchObject({ written: 0, dropped: 2 });
    expect(failed.error?.message).toBe('AccessDenied');

    const hanging = buffer({ writeTimeoutMs: 20, write: () => new Promise(() => undefined) });
    hanging.add('request-2', 1, [{}], [{}]);
    const timedOut = await hanging.flush();
    expect(timedOut).toMatchObject({ written: 0, dropped: 1 });
    expect(timedOut.error?.message).toBe('capture write took over 20 ms');
  });

  it('serialises a request at flush time and drops a batch it cannot serialise instead of throwing', async () => {
    writes.length = 0;
    const capture = buffer({ maxRecords: 100 });
    const circular: Record<string, unknown> = { a: 1 };
    circular.self = circular;
    capture.add('request-1', 1, [circular], [{ label: 0 }]);
    expect(capture.size).toBe(1);
    const result = await capture.flush();
    expect(result).toMatchObject({ written: 0, dropped: 1 });
    expect(result.error?.message).toMatch(/circular/i);
    expect(writes).toHaveLength(0);
    expect(capture.size).toBe(0);
  });
});
