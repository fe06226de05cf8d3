/**
 * Scores an encoded holdout with a loaded model in fixed-size batches and keeps only what the
 * metrics need: the positive-class probability (binary), the class probabilities (multiclass) or
 * the predicted value (regression). The output tensor is read with the predict function's rules
 * (lambdas/shared/serving/predictions.ts), so a model evaluates exactly as it will serve.
 */

import type { ModelSchema } from '../../contracts/serving-schema';
import { PlatformError } from '../shared/errors';
import { ModelOutputError, outputColumnsOf, positiveProbability } from '../shared/serving/predictions';
import type { Scorer } from '../shared/serving/predictor';
import type { Holdout } from './holdout';

/** Rows per scoring call: bounds onnxruntime's working memory whatever the holdout's size. */
export const SCORING_BATCH_ROWS = 8192;

/** A scorer and, when the model declares it, the number of features its input takes. */
export interface LoadedModel extends Scorer {
  readonly inputWidth?: number;
}

export type ModelOutputs =
  | { readonly kind: 'binary'; readonly positive: Float32Array }
  | { readonly kind: 'multiclass'; readonly classes: number; readonly probabilities: Float32Array }
  | { readonly kind: 'regression'; readonly values: Float32Array };

/**
 * The model does not fit its configuration: its input takes another number of features, or its
 * output has the wrong shape. Not worth retrying; the pipeline fails the run with this message.
 */
export class ModelContractError extends PlatformError {
  override readonly name = 'ModelContractError';
  readonly code = 'ModelContract';
  readonly httpStatus = 422;
}

export async function scoreHoldout(model: LoadedModel, schema: ModelSchema, holdout: Holdout, source: string): Promise<ModelOutputs> {
  const { rows, width } = holdout;
  if (model.inputWidth !== undefined && model.inputWidth !== width) {
    throw new ModelContractError(
      `${source}: the model's input takes ${model.inputWidth} features, the configuration names ${width} (${schema.features.map((feature) => feature.name).join(', ')})`,
      { source, modelInputs: model.inputWidth, configuredFeatures: width },
    );
  }
  let outputs: ModelOutputs | undefined;
  for (let start = 0; start < rows; start += SCORING_BATCH_ROWS) {
    const count = Math.min(SCORING_BATCH_ROWS, rows - start);
    const scores = await model.score(holdout.features.subarray(start * width, (start + count) * width), count, width);
    let columns: number;
    try {
      columns = outputColumnsOf(schema, scores, count);
    } catch (error) {
      if (error instanceof ModelOutputError) throw new ModelContractError(`${source}: ${error.message}`, { source });
      throw error;
    }
    outputs ??= allocate(schema, rows, columns);
    if (outputs.kind === 'binary') {
      for (let row = 0; row < count; row++) outputs.positive[start + row] = positiveProbability(scores.data, row, columns);
    } else if (outputs.kind === 'multiclass') {
      if (columns !== outputs.classes) throw new ModelContractError(`${source}: the model's output width changed between batches`);
      outputs.probabilities.set(scores.data.subarray(0, count * columns), start * columns);
    } else {
      outputs.values.set(scores.data.subarray(0, count), start);
    }
  }
  return outputs ?? allocate(schema, 0, 1);
}

function allocate(schema: ModelSchema, rows: number, columns: number): ModelOutputs {
  if (schema.problemType === 'binary-classification') return { kind: 'binary', positive: new Float32Array(rows) };
  if (schema.problemType === 'multiclass-classification') {
    return { kind: 'multiclass', classes: columns, probabilities: new Float32Array(rows * columns) };
  }
  return { kind: 'regression', values: new Float32Array(rows) };
}
