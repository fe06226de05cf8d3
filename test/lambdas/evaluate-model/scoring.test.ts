/**
 * The holdout is scored in batches of 8,192 rows (docs/pipeline.md), each batch's outputs landing
 * at its rows' place, whatever the holdout's size.
 */
import { describe, expect, it } from 'vitest';
import type { ModelSchema } from '../../../contracts/serving-schema';
import type { Holdout } from '../../../lambdas/evaluate-model/holdout';
import { type LoadedModel, SCORING_BATCH_ROWS, scoreHoldout } from '../../../lambdas/evaluate-model/scoring';

const schema: ModelSchema = {
  modelName: 'prices',
  problemType: 'regression',
  features: [{ name: 'size', type: 'number', nullable: false }],
  ignoredColumns: [],
};

describe('scoreHoldout', () => {
  it(`scores in batches of ${SCORING_BATCH_ROWS.toLocaleString('en-US')} rows, the last one holding the rest`, async () => {
    expect(SCORING_BATCH_ROWS).toBe(8192);
    const rows = 2 * SCORING_BATCH_ROWS + 5;
    const features = Float32Array.from({ length: rows }, (_, row) => row);
    const batches: number[] = [];
    // A model that answers each row's feature doubled.
    const model: LoadedModel = {
      score: async (values, count) => {
        batches.push(count);
        return { data: values.map((value) => 2 * value), dims: [count, 1] } as never;
      },
    };
    const outputs = await scoreHoldout(model, schema, { rows, width: 1, features } as Holdout, 's3://bucket/model.tar.gz');
    expect(batches).toEqual([SCORING_BATCH_ROWS, SCORING_BATCH_ROWS, 5]);
    expect(outputs.kind).toBe('regression');
    const values = (outputs as { values: Float32Array }).values;
    expect(values).toHaveLength(rows);
    for (const row of [0, SCORING_BATCH_ROWS - 1, SCORING_BATCH_ROWS, rows - 1]) expect(values[row], String(row)).toBe(2 * row);
  });
});
