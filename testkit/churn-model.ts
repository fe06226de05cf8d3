/**
 * A churn-like binary classifier shared by the predict tests and the benchmark: its serving
 * schema, a logistic model over it, and the reference probability computed in plain JavaScript.
 */

import type { ModelSchema } from '../contracts/serving-schema';
import { buildLinearModel } from './onnx-model';

export const CHURN_SCHEMA: ModelSchema = {
  modelName: 'churn',
  problemType: 'binary-classification',
  features: [
    { name: 'tenure_months', type: 'integer', nullable: false },
    { name: 'monthly_charges', type: 'number', nullable: false },
    { name: 'contract', type: 'category', nullable: false, allowedValues: ['month-to-month', 'one-year', 'two-year'] },
    { name: 'auto_pay', type: 'boolean', nullable: true },
  ],
  ignoredColumns: ['customer_id', 'churned'],
  classLabels: [0, 1],
};

export const CHURN_WEIGHTS = [-0.05, 0.02, -0.8, -0.3] as const;
export const CHURN_BIAS = -0.4;

export function churnModelBytes(weights: readonly number[] = CHURN_WEIGHTS, bias = CHURN_BIAS): Uint8Array {
  return buildLinearModel({ kind: 'binary', weights: weights.map((weight) => [weight]), bias: [bias] });
}

export interface ChurnRow {
  tenure_months: number;
  monthly_charges: number;
  contract: 'month-to-month' | 'one-year' | 'two-year';
  auto_pay: boolean;
}

/** Deterministic rows (a linear congruential sequence), so runs and failures are reproducible. */
export function churnRows(count: number, seed = 1): ChurnRow[] {
  let state = seed;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
  const contracts = ['month-to-month', 'one-year', 'two-year'] as const;
  return Array.from({ length: count }, () => ({
    tenure_months: Math.floor(next() * 120),
    monthly_charges: Math.round(next() * 20_000) / 100,
    contract: contracts[Math.floor(next() * 3)]!,
    auto_pay: next() < 0.5,
  }));
}

/** The positive-class probability the model should give, computed without onnxruntime. */
export function churnProbability(row: ChurnRow, weights: readonly number[] = CHURN_WEIGHTS, bias = CHURN_BIAS): number {
  const encoded = [
    row.tenure_months,
    row.monthly_charges,
    ['month-to-month', 'one-year', 'two-year'].indexOf(row.contract),
    row.auto_pay ? 1 : 0,
  ];
  const linear = encoded.reduce((sum, value, index) => sum + value * weights[index]!, bias);
  return 1 / (1 + Math.exp(-linear));
}
