/**
 * The serving contract of a model (lambdas/predict/features.ts) derived from its
 * configuration: which columns feed the model, in which order, how each is encoded, and the
 * class labels in the order of the model's output columns. Used at synth time (the predict
 * function's environment) and at run time (evaluate-model encodes the holdout the same way).
 */
import type { ColumnConfig, ResolvedModelConfig } from '../../lib/config';
import type { ClassLabel, ModelSchema } from '../predict/features';

/** What the derivation needs of a model: a resolved configuration entry or the pipeline's model document. */
export type ModelSchemaSource = Pick<ResolvedModelConfig, 'name' | 'problemType' | 'columns' | 'target'> & {
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
