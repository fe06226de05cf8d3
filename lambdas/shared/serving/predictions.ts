import type { ClassLabel, ModelSchema, Prediction } from '../../../contracts/serving-schema';
/**
 * Turns the model's output tensor into answers: class probabilities and the label for
 * classification, the value for regression. A binary model may output one column (the
 * positive-class probability, as a sigmoid does) or two (both classes).
 */

/** Decision threshold on the positive-class probability of a binary classifier. */
export const BINARY_THRESHOLD = 0.5;

export interface ScoreTensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** A model whose output does not fit its configuration: a deployment fault, not a bad request. */
export class ModelOutputError extends Error {
  override readonly name = 'ModelOutputError';
}

export function toPredictions(schema: ModelSchema, scores: ScoreTensor, rows: number): Prediction[] {
  const outputColumns = outputColumnsOf(schema, scores, rows);
  const { data } = scores;
  const predictions = new Array<Prediction>(rows);
  if (schema.problemType === 'regression') {
    for (let row = 0; row < rows; row++) predictions[row] = { value: data[row]! };
    return predictions;
  }
  const labels = classLabelsOf(schema, outputColumns);
  if (schema.problemType === 'binary-classification') {
    for (let row = 0; row < rows; row++) {
      const positive = positiveProbability(data, row, outputColumns);
      predictions[row] = { label: labels[positive >= BINARY_THRESHOLD ? 1 : 0]!, probabilities: [1 - positive, positive] };
    }
    return predictions;
  }
  for (let row = 0; row < rows; row++) {
    const probabilities = Array.from(data.subarray(row * outputColumns, (row + 1) * outputColumns));
    let best = 0;
    for (let k = 1; k < outputColumns; k++) if (probabilities[k]! > probabilities[best]!) best = k;
    predictions[row] = { label: labels[best]!, probabilities };
  }
  return predictions;
}

/**
 * Checks the output tensor against the schema and returns its column count: [rows, 1] for
 * regression, [rows, 1] or [rows, 2] for a binary classifier, one column per class label otherwise.
 */
export function outputColumnsOf(schema: ModelSchema, scores: ScoreTensor, rows: number): number {
  const [outputRows, outputColumns = 1] = scores.dims;
  if (outputRows !== rows || scores.dims.length > 2 || scores.data.length !== rows * outputColumns) {
    throw new ModelOutputError(`model output has shape [${scores.dims.join(', ')}], expected [${rows}, k] for ${rows} rows`);
  }
  if (schema.problemType === 'regression') {
    if (outputColumns !== 1) throw new ModelOutputError(`a regression model must output one column, got ${outputColumns}`);
  } else if (schema.problemType === 'binary-classification') {
    if (outputColumns !== 1 && outputColumns !== 2) {
      throw new ModelOutputError(`a binary classifier must output 1 or 2 columns, got ${outputColumns}`);
    }
  } else {
    const labels = classLabelsOf(schema, outputColumns);
    if (outputColumns !== labels.length) {
      throw new ModelOutputError(`model outputs ${outputColumns} classes but ${labels.length} labels are configured`);
    }
  }
  return outputColumns;
}

/** A binary classifier's positive-class probability for one row: its single (sigmoid) column, or column 1 of two. */
export function positiveProbability(data: Float32Array, row: number, outputColumns: number): number {
  return outputColumns === 1 ? data[row]! : data[row * 2 + 1]!;
}

/** The configured labels, or the output column indices when the configuration names none. */
export function classLabelsOf(schema: ModelSchema, outputColumns: number): readonly ClassLabel[] {
  return schema.classLabels ?? defaultLabels(schema.problemType === 'binary-classification' ? 2 : outputColumns);
}

function defaultLabels(count: number): number[] {
  return Array.from({ length: count }, (_, index) => index);
}
