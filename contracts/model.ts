/**
 * The model contract: what a model is (problem type, columns, target, features, sensitive
 * attribute), the dataset rules its training data must keep and the thresholds of its evaluation
 * gate. The platform configuration declares it per model; the training pipeline hands it to its
 * functions as the **model document** (`ModelDocument`), parsed at both ends by the same schema.
 */
import * as z from 'zod';
import { columnSchema, duplicateColumnIssues } from './columns';
import { datasetRulesSchema, targetIssue } from './dataset';
import { modelNameSchema } from './fields';

export const PROBLEM_TYPES = ['binary-classification', 'multiclass-classification', 'regression'] as const;
export type ProblemType = (typeof PROBLEM_TYPES)[number];

export const CLASSIFICATION_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'] as const;
export const REGRESSION_METRICS = ['mae', 'rmse', 'r2'] as const;
export const METRIC_NAMES = [...CLASSIFICATION_METRICS, ...REGRESSION_METRICS] as const;
/** Holdout rows (per class for classification) below which the gate cannot judge a model. */
export const DEFAULT_MIN_HOLDOUT_ROWS = 30;
export type MetricName = (typeof METRIC_NAMES)[number];

const boundSchema = z
  .object({ min: z.number().optional(), max: z.number().optional() })
  .strict()
  .refine((bound) => bound.min !== undefined || bound.max !== undefined, 'needs min or max');

export const thresholdsSchema = z
  .object({
    metrics: z
      .partialRecord(z.enum(METRIC_NAMES), boundSchema)
      .default({})
      .describe("the evaluation gate, per metric: `{ accuracy: { min: 0.85 } }`; only the problem type's metrics"),
    disparateImpact: z
      .tuple([z.number().positive(), z.number().positive()])
      .default([0.8, 1.25])
      .refine(([low, high]) => low <= 1 && high >= 1, 'must be [low, high] with low <= 1 <= high')
      .describe('favourable-outcome rate ratio allowed for the sensitive attribute: [low, high] with low ≤ 1 ≤ high'),
    championMargin: z
      .number()
      .min(0)
      .max(1)
      .default(0.01)
      .describe('how much worse than the production champion a challenger may be, per gated metric'),
    minHoldoutRows: z
      .number()
      .int()
      .min(1)
      .default(DEFAULT_MIN_HOLDOUT_ROWS)
      .describe('holdout rows the gate needs to judge a model: per class for classification, in all for regression'),
  })
  .strict();

/**
 * How a validated dataset is split into training, validation and holdout rows. Deterministic:
 * with an id column each row goes where the hash of its id (and the seed) says, so a customer
 * stays on one side across runs; without one, rows are dealt in order per class so each split
 * keeps the dataset's class shares exactly (±1 row). The holdout is never a training channel.
 */
export const splitSchema = z
  .object({
    holdoutFraction: z
      .number()
      .gt(0)
      .lt(1)
      .default(0.2)
      .describe('share of the rows kept out of training to evaluate the model on (ignored when a run names its own holdoutUri)'),
    validationFraction: z
      .number()
      .min(0)
      .lt(1)
      .default(0.1)
      .describe('share of the rows the training job validates on (early stopping, metrics); 0 for none'),
    idColumn: z
      .string()
      .min(1)
      .optional()
      .describe('a column identifying an entity (e.g. customer_id): its rows all land in the same split, run after run'),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(42)
      .describe('seeds the id hash; change it to draw another split'),
  })
  .strict()
  .refine((split) => split.holdoutFraction + split.validationFraction < 1, {
    message: 'holdoutFraction + validationFraction must leave rows to train on (sum < 1)',
    path: ['validationFraction'],
  });

export type SplitConfig = z.output<typeof splitSchema>;

export type ThresholdsConfig = z.output<typeof thresholdsSchema>;

/** The fields of the model contract, shared by the configuration entry and the model document. */
export const modelContractShape = {
  name: modelNameSchema.describe('unique per platform; part of S3 keys, table keys and job names'),
  problemType: z.enum(PROBLEM_TYPES).describe('what the model predicts'),
  columns: z.array(columnSchema).min(1).describe('every column of the training dataset, target and sensitive attribute included'),
  target: z.string().min(1).describe('the column the model learns to predict'),
  features: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .describe('model inputs, in order; by default every column except the target and the sensitive attribute'),
  sensitiveAttribute: z
    .string()
    .min(1)
    .optional()
    .describe('a column (not the target) whose groups get per-group metrics and the disparate-impact check'),
  dataset: datasetRulesSchema.prefault({}).describe('row-count and bad-row rules of the training dataset'),
  thresholds: thresholdsSchema.prefault({}).describe('the evaluation gate'),
  split: splitSchema.prefault({}).describe('how the validated dataset is split into training, validation and holdout rows'),
};

interface ModelContractFields {
  readonly split?: { readonly idColumn?: string | undefined };
  readonly problemType: ProblemType;
  readonly columns: readonly { readonly name: string }[];
  readonly target: string;
  readonly features?: readonly string[] | undefined;
  readonly sensitiveAttribute?: string | undefined;
  readonly thresholds: { readonly metrics: Partial<Record<MetricName, unknown>> };
}

/** The cross-field rules of a model: columns, target, sensitive attribute, features and gated metrics agree. */
export function checkModelContract(model: ModelContractFields, ctx: z.core.$RefinementCtx): void {
  const names = model.columns.map((column) => column.name);
  for (const issue of duplicateColumnIssues(model.columns)) ctx.addIssue({ code: 'custom', ...issue });
  const target = targetIssue(model.columns, model.target);
  if (target) ctx.addIssue({ code: 'custom', ...target });
  if (model.sensitiveAttribute !== undefined) {
    if (!names.includes(model.sensitiveAttribute)) {
      ctx.addIssue({
        code: 'custom',
        path: ['sensitiveAttribute'],
        message: `must name one of the columns (${names.join(', ')}), got "${model.sensitiveAttribute}"`,
      });
    } else if (model.sensitiveAttribute === model.target) {
      ctx.addIssue({ code: 'custom', path: ['sensitiveAttribute'], message: 'must differ from the target' });
    }
  }
  model.features?.forEach((feature, index) => {
    if (!names.includes(feature)) {
      ctx.addIssue({ code: 'custom', path: ['features', index], message: `must name one of the columns, got "${feature}"` });
    } else if (feature === model.target) {
      ctx.addIssue({ code: 'custom', path: ['features', index], message: 'the target cannot be a model input' });
    }
  });
  const idColumn = model.split?.idColumn;
  if (idColumn !== undefined && !names.includes(idColumn)) {
    ctx.addIssue({
      code: 'custom',
      path: ['split', 'idColumn'],
      message: `must name one of the columns (${names.join(', ')}), got "${idColumn}"`,
    });
  } else if (idColumn !== undefined && idColumn === model.target) {
    ctx.addIssue({ code: 'custom', path: ['split', 'idColumn'], message: 'must not be the target' });
  }
  const allowed: readonly string[] = model.problemType === 'regression' ? REGRESSION_METRICS : CLASSIFICATION_METRICS;
  for (const metric of Object.keys(model.thresholds.metrics)) {
    if (!allowed.includes(metric)) {
      ctx.addIssue({
        code: 'custom',
        path: ['thresholds', 'metrics', metric],
        message: `is not a ${model.problemType} metric (use ${allowed.join(', ')})`,
      });
    }
  }
}

/**
 * The model document: what the pipeline's functions need to know of a model (schema, target,
 * features, thresholds), passed in their events so no function needs the whole configuration.
 * Features left out default as the configuration's do; unknown keys are dropped rather than refused.
 */
export const modelDocumentSchema = z
  .object(modelContractShape)
  .superRefine(checkModelContract)
  .transform((model) => ({ ...model, features: model.features ?? defaultFeatures(model) }));

export type ModelDocument = z.output<typeof modelDocumentSchema>;

/** The model inputs when the configuration names none: every column but the target and the sensitive attribute. */
export function defaultFeatures(model: { columns: readonly { name: string }[]; target: string; sensitiveAttribute?: string }): string[] {
  return model.columns.map((column) => column.name).filter((name) => name !== model.target && name !== model.sensitiveAttribute);
}

/** The model document of a model (a resolved configuration entry or a document): exactly its fields. */
export function modelDocument(model: ModelDocument): ModelDocument {
  return {
    name: model.name,
    problemType: model.problemType,
    columns: model.columns,
    target: model.target,
    features: model.features,
    ...(model.sensitiveAttribute === undefined ? {} : { sensitiveAttribute: model.sensitiveAttribute }),
    dataset: model.dataset,
    thresholds: model.thresholds,
    split: model.split,
  };
}
