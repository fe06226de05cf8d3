/**
 * The serving contract of a model: which columns feed the model, in which order, how each is
 * encoded (lambdas/shared/serving/features.ts encodes rows by it), and the class labels in the
 * order of the model's output columns. Derived from the model's configuration by modelSchemaFor
 * at synth time (the predict function's environment) and at run time (evaluate-model encodes
 * the holdout the same way; the training program reads it in the model document).
 */
import * as z from 'zod';
import type { ColumnConfig } from './columns';
import { type ModelDocument, PROBLEM_TYPES } from './model';

/** Column types a model can take as input; free-text `string` columns cannot be encoded. */
export const MODEL_INPUT_TYPES = ['number', 'integer', 'boolean', 'category', 'timestamp'] as const;

const featureSchema = z
  .object({
    name: z.string().min(1),
    type: z.enum(MODEL_INPUT_TYPES),
    nullable: z.boolean(),
    allowedValues: z.array(z.string()).min(1).optional(),
  })
  .refine((feature) => feature.type !== 'category' || feature.allowedValues !== undefined, {
    message: 'a category feature needs allowedValues (its encoding is the index in that list)',
  });

/**
 * What a model's training rows held of one feature: the smallest and largest value of a numeric
 * feature, in the serving encoding (timestamps as epoch seconds), or the values a category or
 * boolean feature took. Inputs outside it are answered, and flagged (`outOfRange`).
 */
export const trainingRangeSchema = z.union([
  z.strictObject({ min: z.number(), max: z.number() }),
  z.strictObject({ values: z.array(z.string()) }),
]);

/** Per feature name, its training range; features without one are not checked. */
export const trainingRangesSchema = z.record(z.string(), trainingRangeSchema);

export type TrainingRange = z.output<typeof trainingRangeSchema>;
export type TrainingRanges = z.output<typeof trainingRangesSchema>;

/**
 * The serving schema as the model artifact carries it: the training program copies the model
 * document's `servingSchema` (with the training ranges validate-data measured on the training
 * split) into the model folder as this file, so `model.tar.gz` holds it beside `model.onnx` and
 * every server of that version — the predict function, the SageMaker endpoint's container —
 * reads the ranges of exactly the rows that version learnt from.
 */
export const SERVING_SCHEMA_FILE = 'serving-schema.json';

export const modelSchemaSchema = z.object({
  modelName: z.string().min(1),
  problemType: z.enum(PROBLEM_TYPES),
  /** Model inputs in the order of the model's input tensor columns. */
  features: z.array(featureSchema).min(1),
  /** Other configured columns (ids, the target, the sensitive attribute): accepted in a row and ignored. */
  ignoredColumns: z.array(z.string()).default([]),
  /** Class labels in the order of the model's output columns (classification only). */
  classLabels: z.array(z.union([z.string(), z.number(), z.boolean()])).optional(),
  /** The model's training ranges (from the run's training split); absent in the configuration's schema. */
  trainingRanges: trainingRangesSchema.optional(),
});

export type ModelSchema = z.output<typeof modelSchemaSchema>;

/** The model schema as the serving functions receive it: JSON text in their `MODEL_SCHEMA` environment variable. */
export const modelSchemaJsonSchema = z.string().transform((text, ctx) => {
  try {
    return modelSchemaSchema.parse(JSON.parse(text));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid model schema: ${(error as Error).message}` });
    return z.NEVER;
  }
});
export type FeatureSpec = ModelSchema['features'][number];
export type ClassLabel = string | number | boolean;

/** What the derivation needs of a model: a resolved configuration entry or the pipeline's model document. */
export type ModelSchemaSource = Pick<ModelDocument, 'name' | 'problemType' | 'columns' | 'target'> & {
  readonly features: readonly string[];
};

/**
 * The serving contract the predict function enforces, from the model's configuration.
 * Throws, naming the model and column, for what cannot be served.
 */
export function modelSchemaFor(model: ModelSchemaSource): ModelSchema {
  const columns = new Map(model.columns.map((column) => [column.name, column]));
  const features = model.features.map((name) => {
    const column = columns.get(name);
    if (!column) throw new Error(`model "${model.name}": feature "${name}" is not one of its columns`);
    if (column.type === 'string') {
      throw new Error(`model "${model.name}": feature "${name}" is a free-text string column; a model input must be numeric or a category`);
    }
    if (column.type === 'category' && !column.allowedValues) {
      throw new Error(`model "${model.name}": category feature "${name}" needs allowedValues (it is encoded as the index in that list)`);
    }
    return {
      name,
      type: column.type,
      nullable: column.nullable,
      ...(column.allowedValues ? { allowedValues: column.allowedValues } : {}),
    };
  });
  const inputs = new Set(model.features);
  const target = columns.get(model.target);
  if (!target) throw new Error(`model "${model.name}": target "${model.target}" is not one of its columns`);
  const classLabels = model.problemType === 'regression' ? undefined : classLabelsFor(model, target);
  return {
    modelName: model.name,
    problemType: model.problemType,
    features,
    ignoredColumns: model.columns.map((column) => column.name).filter((name) => !inputs.has(name)),
    ...(classLabels ? { classLabels } : {}),
  };
}

/**
 * Class labels in output-column order. For a binary model the second label is the positive
 * class (the one a single sigmoid output scores): `true`, the second allowed value, or min + 1.
 */
function classLabelsFor(model: ModelSchemaSource, target: ColumnConfig): ClassLabel[] | undefined {
  const binary = model.problemType === 'binary-classification';
  if (target.type === 'boolean') return [false, true];
  if (target.allowedValues) {
    if (binary && target.allowedValues.length !== 2) {
      throw new Error(`model "${model.name}": a binary target needs exactly 2 allowedValues, got ${target.allowedValues.length}`);
    }
    return target.allowedValues;
  }
  if (target.type === 'integer') {
    const low = target.min ?? 0;
    if (binary) return [low, low + 1];
    if (target.max !== undefined) return Array.from({ length: target.max - low + 1 }, (_, index) => low + index);
  }
  return binary ? [0, 1] : undefined;
}

/**
 * One row's answer: the label with each class's probability (classification), or the value
 * (regression); `outOfRange` names the row's features outside the model's training ranges
 * (present only when there is one: the answer is an extrapolation, not refused).
 */
export type Prediction = ({ readonly label: ClassLabel; readonly probabilities: number[] } | { readonly value: number }) & {
  outOfRange?: string[];
};

/** What predict answers (POST /models/{name}/predict). */
export interface PredictResponse {
  readonly modelName: string;
  /** The version that scored this request (the canary's, for a canary-routed request it answered). */
  readonly modelVersion: number;
  /** Class labels in the order of each prediction's `probabilities` (classification only). */
  readonly labels?: readonly ClassLabel[];
  readonly predictions: Prediction[];
}
