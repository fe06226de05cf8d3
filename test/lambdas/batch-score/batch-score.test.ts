/**
 * Batch scoring's core: every input row is either scored (one output line with its row id, the
 * model version and the prediction, in input order, the same answer whatever the chunking) or
 * listed as a failure with its reason — a property over generated rows with refused ones mixed
 * in; CSV cells typed by the schema; JSON Lines with unparsable lines; the failure tolerance;
 * capture records drift detection can read; the real churn ONNX model through OnnxScorer.
 */
import fc from 'fast-check';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { failuresTolerated, MAX_CAPTURED_ROWS, rowsFromCsv, rowsFromJsonLines, scoreRows } from '../../../lambdas/batch-score/batch-score';
import { parseRecord } from '../../../lambdas/check-drift/capture';
import { OnnxScorer } from '../../../lambdas/shared/serving/onnx-scorer';
import type { Scorer } from '../../../lambdas/shared/serving/predictor';
import { CHURN_SCHEMA, churnModelBytes, churnProbability, churnRows } from '../../../testkit/churn-model';

/** The text of a CSV or JSON Lines output (Parquet output is bytes). */
function textOf(output: string | Uint8Array): string {
  if (typeof output !== 'string') throw new Error('expected a text output');
  return output;
}

/** A scorer whose answer depends on the row alone: probability tenure / 100 (so chunking cannot change it). */
function tenureScorer(calls: number[] = []): Scorer {
  return {
    async score(values, rows, columns) {
      calls.push(rows);
      const data = new Float32Array(rows);
      for (let row = 0; row < rows; row++) data[row] = Math.min(1, values[row * columns]! / 100);
      return { data, dims: [rows, 1] };
    },
  };
}

const CONTRACTS = ['month-to-month', 'one-year', 'two-year'] as const;
const validRow = fc.record({
  tenure_months: fc.integer({ min: 0, max: 100 }),
  monthly_charges: fc.double({ min: 1, max: 200, noNaN: true }),
  contract: fc.constantFrom(...CONTRACTS),
  auto_pay: fc.option(fc.boolean(), { nil: null }),
});
/** Refused by the schema: an unknown category, or a missing feature. */
const refusedRow = fc.oneof(
  validRow.map((row) => ({ ...row, contract: 'weekly' })),
  validRow.map(({ monthly_charges: _dropped, ...row }) => row),
);

describe('scoreRows', () => {
  it('scores or lists every row: output in input order, the answer independent of chunking, each refused row named', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.boolean(), validRow, refusedRow), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 1, max: 25 }),
        async (draws, chunkRows) => {
          const rows = draws.map(([valid, good, bad], index) => ({
            rowId: `c-${index}`,
            instance: (valid ? good : bad) as Record<string, unknown>,
          }));
          const result = await scoreRows(
            { schema: CHURN_SCHEMA, scorer: tenureScorer(), modelVersion: 3, format: 'jsonl', chunkRows, runId: 'batch-1' },
            rows,
          );
          const lines =
            textOf(result.output).trim() === ''
              ? []
              : textOf(result.output)
                  .trim()
                  .split('\n')
                  .map((line) => JSON.parse(line));
          const validIds = draws.flatMap(([valid], index) => (valid ? [`c-${index}`] : []));
          expect(lines.map((line) => line.rowId)).toEqual(validIds);
          expect(result.failures.map((failure) => failure.rowId)).toEqual(draws.flatMap(([valid], index) => (valid ? [] : [`c-${index}`])));
          expect(result.scoredRows + result.failures.length).toBe(rows.length);
          for (const failure of result.failures) expect(failure.error).toMatch(/^row(\.| )/);
          for (const line of lines) {
            const tenure = rows.find((row) => row.rowId === line.rowId)!.instance.tenure_months as number;
            expect(line.modelVersion).toBe(3);
            expect(line.prediction).toBe(Math.fround(tenure / 100) >= 0.5 ? 1 : 0);
          }
          // Capture records: one per scored row, readable by the drift check.
          const capture = result.capture.trim() === '' ? [] : result.capture.trim().split('\n');
          expect(capture).toHaveLength(result.scoredRows);
          for (const record of capture) expect(typeof parseRecord(JSON.parse(record))).toBe('object');
        },
      ),
      { numRuns: 60 },
    );
  });

  it('scores in chunks of 5,000 rows by default (the figure docs/pipeline.md states)', async () => {
    const calls: number[] = [];
    const rows = churnRows(12_001).map((instance, index) => ({
      rowId: String(index),
      instance: instance as unknown as Record<string, unknown>,
    }));
    await scoreRows({ schema: CHURN_SCHEMA, scorer: tenureScorer(calls), modelVersion: 1, format: 'jsonl', runId: 'b' }, rows);
    expect(calls).toEqual([5000, 5000, 2001]);
  });

  it('runs the session once per chunk of accepted rows', async () => {
    const calls: number[] = [];
    const rows = churnRows(23).map((instance, index) => ({
      rowId: String(index),
      instance: instance as unknown as Record<string, unknown>,
    }));
    const result = await scoreRows(
      { schema: CHURN_SCHEMA, scorer: tenureScorer(calls), modelVersion: 1, format: 'csv', chunkRows: 10, runId: 'b' },
      rows,
    );
    expect(calls).toEqual([10, 10, 3]);
    expect(textOf(result.output).split('\n')[0]).toBe('row_id,model_version,prediction,probability_0,probability_1');
    expect(textOf(result.output).trim().split('\n')).toHaveLength(24);
    await expect(
      scoreRows({ schema: CHURN_SCHEMA, scorer: tenureScorer(), modelVersion: 1, format: 'csv', chunkRows: 20_000, runId: 'b' }, rows),
    ).rejects.toThrow('chunkRows must be a whole number between 1 and 10000, got 20000');
  });

  it('captures a systematic sample of at most MAX_CAPTURED_ROWS rows of a large object for the drift check', async () => {
    const rows = churnRows(25_000, 5).map((instance, index) => ({
      rowId: String(index),
      instance: instance as unknown as Record<string, unknown>,
    }));
    const result = await scoreRows({ schema: CHURN_SCHEMA, scorer: tenureScorer(), modelVersion: 1, format: 'jsonl', runId: 'b' }, rows);
    const captured = result.capture
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line).row as number);
    expect(result.scoredRows).toBe(25_000);
    expect(captured.length).toBeLessThanOrEqual(MAX_CAPTURED_ROWS);
    expect(captured.length).toBeGreaterThan(MAX_CAPTURED_ROWS / 2);
    expect(captured.slice(0, 3)).toEqual([0, 3, 6]);
  });

  it('scores with the real churn model through the ONNX session, as predict would answer the same rows', async () => {
    const scorer = await OnnxScorer.create(churnModelBytes());
    const instances = churnRows(50, 7);
    const rows = instances.map((instance, index) => ({ rowId: `r${index}`, instance: instance as unknown as Record<string, unknown> }));
    const result = await scoreRows({ schema: CHURN_SCHEMA, scorer, modelVersion: 2, format: 'jsonl', runId: 'b' }, rows);
    expect(result.failures).toEqual([]);
    const lines = textOf(result.output)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines).toHaveLength(50);
    lines.forEach((line, index) => {
      expect(line.rowId).toBe(`r${index}`);
      expect(line.probabilities[1]).toBeCloseTo(churnProbability(instances[index]!), 5);
      expect(line.prediction).toBe(line.probabilities[1] >= 0.5 ? 1 : 0);
    });
  });
});

describe('reading batch input', () => {
  it('types CSV cells by the schema (numbers, booleans, empty as null), keeps the row id column, quotes ids in the output', async () => {
    const csv = [
      'customer_id,tenure_months,monthly_charges,contract,auto_pay',
      'A-1,12,70.5,month-to-month,true',
      '"B,2",60,20,two-year,',
      'C-3,twelve,20,two-year,0',
    ].join('\n');
    const { rows } = rowsFromCsv(CHURN_SCHEMA, csv, { rowIdColumn: 'customer_id' });
    // The model's inputs in feature order (the id column is read for the row id only).
    expect(rows).toEqual([
      { rowId: 'A-1', instance: [12, 70.5, 'month-to-month', true] },
      { rowId: 'B,2', instance: [60, 20, 'two-year', null] },
      { rowId: 'C-3', instance: ['twelve', 20, 'two-year', false] },
    ]);
    const unquoted = rowsFromCsv(CHURN_SCHEMA, 'auto_pay,contract,monthly_charges,tenure_months\r\n1,one-year,5,7\r\n0,one-year\r\n');
    expect(unquoted.rows).toEqual([{ rowId: '1', instance: [7, 5, 'one-year', true] }]);
    expect(unquoted.failures).toEqual([{ rowId: '2', error: 'row 2 has 2 fields; the header has 4' }]);
    expect(rowsFromCsv(CHURN_SCHEMA, 'tenure_months,contract\n1,one-year\n').failures).toEqual([
      { rowId: '1', error: 'row.monthly_charges: the input has no such column' },
    ]);
    const result = await scoreRows({ schema: CHURN_SCHEMA, scorer: tenureScorer(), modelVersion: 4, format: 'csv', runId: 'b' }, rows);
    expect(textOf(result.output).split('\n').slice(1, 3)).toEqual([
      'A-1,4,0,0.880000002682209,0.11999999731779099',
      '"B,2",4,1,0.3999999761581421,0.6000000238418579',
    ]);
    expect(result.failures).toEqual([{ rowId: 'C-3', error: expect.stringContaining('tenure_months') }]);
  });

  it('lists JSON Lines that are not objects as failures by line number, and numbers rows without an id column', () => {
    const { rows, failures } = rowsFromJsonLines('{"tenure_months":1}\nnot json\n[1,2]\n\n{"tenure_months":2}\n');
    expect(rows.map((row) => row.rowId)).toEqual(['1', '5']);
    expect(failures.map((failure) => failure.rowId)).toEqual(['2', '3']);
    expect(failures[1]!.error).toBe('line 3 is not a JSON object');
  });
});

describe('failuresTolerated', () => {
  it('holds exactly when the failed share is within the tolerance', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 100, noNaN: true }),
        (total, share, tolerance) => {
          const failed = Math.floor(share * total);
          expect(failuresTolerated(total, failed, tolerance)).toBe((100 * failed) / total <= tolerance);
        },
      ),
    );
    expect(failuresTolerated(0, 0, 0)).toBe(true);
    expect(failuresTolerated(100, 1, 1)).toBe(true);
    expect(failuresTolerated(100, 2, 1)).toBe(false);
  });

  it("writes Parquet with the CSV output's columns, typed: the same rows and answers as JSON Lines", async () => {
    const scorer = await OnnxScorer.create(churnModelBytes());
    const rows = churnRows(40, 11).map((instance, index) => ({
      rowId: `c-${index}`,
      instance: instance as unknown as Record<string, unknown>,
    }));
    const options = { schema: CHURN_SCHEMA, scorer, modelVersion: 4, runId: 'b', at: new Date('2026-01-05T00:00:00Z') } as const;
    const parquet = await scoreRows({ ...options, format: 'parquet' }, rows);
    const jsonl = await scoreRows({ ...options, format: 'jsonl' }, rows);
    expect(parquet.output).toBeInstanceOf(Uint8Array);
    const file = (parquet.output as Uint8Array).slice().buffer;
    const metadata = parquetMetadata(file);
    expect(Number(metadata.num_rows)).toBe(40);
    expect(metadata.schema.slice(1).map((element) => [element.name, element.type])).toEqual([
      ['row_id', 'BYTE_ARRAY'],
      ['model_version', 'INT32'],
      ['prediction', 'DOUBLE'],
      ['probability_0', 'DOUBLE'],
      ['probability_1', 'DOUBLE'],
    ]);
    const expected = textOf(jsonl.output)
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    const read = await parquetReadObjects({ file });
    expect(read).toEqual(
      expected.map((line) => ({
        row_id: line.rowId,
        model_version: 4,
        prediction: line.prediction,
        probability_0: line.probabilities[0],
        probability_1: line.probabilities[1],
      })),
    );
    expect(parquet.capture).toBe(jsonl.capture);
  });

  it('writes an empty Parquet output when no row could be scored, and lists every row as failed', async () => {
    const result = await scoreRows({ schema: CHURN_SCHEMA, scorer: tenureScorer(), modelVersion: 1, format: 'parquet', runId: 'b' }, [
      { rowId: 'x', instance: { tenure_months: 1, monthly_charges: 2, contract: 'weekly', auto_pay: null } },
    ]);
    expect(result.output).toEqual(new Uint8Array());
    expect(result.failures.map((failure) => failure.rowId)).toEqual(['x']);
  });
});
