/**
 * Judges a model's outputs against the holdout's targets: the headline metrics of its problem
 * type, the confusion matrix, a per-group table for the sensitive attribute and the disparate
 * impact across those groups; and flattens the result into the small metric map the registry
 * records with the version.
 */

import type { ModelSchema } from '../../contracts/serving-schema';
import { BINARY_THRESHOLD, classLabelsOf } from '../shared/serving/predictions';
import type { Holdout } from './holdout';
import {
  binaryScores,
  type ConfusionCounts,
  confusionMatrix,
  type DisparateImpact,
  disparateImpact,
  macroRocAuc,
  multiclassScores,
  regressionScores,
  rocAuc,
} from './metrics';
import { ModelContractError, type ModelOutputs } from './scoring';

/** Groups smaller than this are reported but left out of the disparate-impact ratio: their rates are noise. */
export const MIN_GROUP_ROWS_FOR_DISPARATE_IMPACT = 30;
/** Groups whose metrics go into the registry's metric map (the largest ones); the report lists all. */
export const MAX_METRIC_GROUPS = 8;
/** The registry's limit on a metric name. */
const MAX_METRIC_NAME_LENGTH = 64;

export interface GroupQuality {
  readonly group: string;
  readonly rows: number;
  /** Binary classification: share of the group's rows predicted positive (the favourable outcome). */
  readonly positiveRate?: number;
  readonly accuracy?: number;
  readonly precision?: number;
  readonly recall?: number;
  readonly f1?: number;
  readonly mae?: number;
  readonly rmse?: number;
}

export interface QualityAssessment {
  /** accuracy, precision, recall, f1, rocAuc (classification) or mae, rmse, r2 (regression). */
  readonly metrics: Record<string, number>;
  /** Metrics that could not be computed, with the reason (ROC-AUC of a one-class holdout). */
  readonly unavailable: Record<string, string>;
  readonly confusionMatrix?: { readonly labels: string[]; readonly counts: ConfusionCounts };
  /** Per group of the sensitive attribute, largest first; rows whose attribute is null are in no group. */
  readonly groups: GroupQuality[];
  readonly disparateImpact?: DisparateImpact & {
    /** Groups below this many rows are left out (their rates are noise): listed in `groups` only. */
    readonly minGroupRows: number;
  };
}

export function assessQuality(schema: ModelSchema, holdout: Holdout, outputs: ModelOutputs): QualityAssessment {
  if (outputs.kind === 'regression') return assessRegression(holdout, outputs.values);
  const classes = outputs.kind === 'binary' ? 2 : outputs.classes;
  const actual = new Int32Array(holdout.rows);
  for (let row = 0; row < holdout.rows; row++) {
    const label = holdout.targets[row]!;
    if (label >= classes) {
      throw new ModelContractError(`the holdout has class index ${label}, but the model outputs ${classes} classes`, { classes });
    }
    actual[row] = label;
  }
  const predicted = predictedClasses(outputs, holdout.rows);
  const counts = confusionMatrix(actual, predicted, classes);
  const scores = outputs.kind === 'binary' ? binaryScores(counts) : multiclassScores(counts);
  const area =
    outputs.kind === 'binary'
      ? rocAuc(
          outputs.positive,
          Array.from(actual, (label) => label === 1),
        )
      : macroRocAuc(outputs.probabilities, actual, classes);
  const metrics: Record<string, number> = { ...scores };
  const unavailable: Record<string, string> = {};
  if (area === undefined) unavailable.rocAuc = 'the holdout holds a single class, so no ranking of positives over negatives exists';
  else metrics.rocAuc = area;

  const groups = groupRows(holdout).map(({ group, rows }) => {
    const groupCounts = confusionMatrix(
      rows.map((row) => actual[row]!),
      rows.map((row) => predicted[row]!),
      classes,
    );
    const groupScores = outputs.kind === 'binary' ? binaryScores(groupCounts) : multiclassScores(groupCounts);
    const positiveRate = outputs.kind === 'binary' ? rows.filter((row) => predicted[row] === 1).length / rows.length : undefined;
    return { group, rows: rows.length, ...(positiveRate === undefined ? {} : { positiveRate }), ...groupScores };
  });
  const labels = classLabelsOf(schema, classes).map(String);
  return {
    metrics,
    unavailable,
    confusionMatrix: { labels, counts },
    groups,
    ...(outputs.kind === 'binary' ? disparateImpactOf(groups) : {}),
  };
}

function predictedClasses(outputs: Exclude<ModelOutputs, { kind: 'regression' }>, rows: number): Int32Array {
  const predicted = new Int32Array(rows);
  if (outputs.kind === 'binary') {
    for (let row = 0; row < rows; row++) predicted[row] = outputs.positive[row]! >= BINARY_THRESHOLD ? 1 : 0;
    return predicted;
  }
  const { classes, probabilities } = outputs;
  for (let row = 0; row < rows; row++) {
    let best = 0;
    for (let k = 1; k < classes; k++) if (probabilities[row * classes + k]! > probabilities[row * classes + best]!) best = k;
    predicted[row] = best;
  }
  return predicted;
}

function assessRegression(holdout: Holdout, values: Float32Array): QualityAssessment {
  const groups = groupRows(holdout).map(({ group, rows }) => {
    const { mae, rmse } = regressionScores(
      rows.map((row) => holdout.targets[row]!),
      rows.map((row) => values[row]!),
    );
    return { group, rows: rows.length, mae, rmse };
  });
  return { metrics: { ...regressionScores(holdout.targets, values) }, unavailable: {}, groups };
}

/** Row indices per group, largest group first (then by name, so the order is stable; names are distinct). */
function groupRows(holdout: Holdout): { group: string; rows: number[] }[] {
  const members = holdout.groupNames.map(() => [] as number[]);
  for (let row = 0; row < holdout.rows; row++) {
    const group = holdout.groups[row]!;
    if (group >= 0) members[group]!.push(row);
  }
  return holdout.groupNames
    .map((group, index) => ({ group, rows: members[index]! }))
    .filter(({ rows }) => rows.length > 0)
    .sort((a, b) => b.rows.length - a.rows.length || (a.group < b.group ? -1 : 1));
}

function disparateImpactOf(groups: readonly GroupQuality[]): Pick<QualityAssessment, 'disparateImpact'> {
  const compared = groups.filter((group) => group.rows >= MIN_GROUP_ROWS_FOR_DISPARATE_IMPACT);
  const impact = disparateImpact(compared.map((group) => ({ group: group.group, rows: group.rows, rate: group.positiveRate! })));
  if (impact === undefined) return {};
  return { disparateImpact: { ...impact, minGroupRows: MIN_GROUP_ROWS_FOR_DISPARATE_IMPACT } };
}

/**
 * The flat map the registry records: the headline metrics, `holdoutRows`, `disparateImpact`, and
 * for the largest MAX_METRIC_GROUPS groups `accuracy.<attribute>=<group>` and
 * `positiveRate.<attribute>=<group>` (binary) or `mae.<attribute>=<group>` (regression).
 */
export function registryMetrics(assessment: QualityAssessment, holdoutRows: number, sensitiveAttribute?: string): Record<string, number> {
  const metrics: Record<string, number> = { ...assessment.metrics, holdoutRows };
  if (assessment.disparateImpact) metrics.disparateImpact = assessment.disparateImpact.value;
  if (sensitiveAttribute === undefined) return metrics;
  for (const group of assessment.groups.slice(0, MAX_METRIC_GROUPS)) {
    for (const metric of ['accuracy', 'positiveRate', 'mae'] as const) {
      const value = group[metric];
      if (value === undefined) continue;
      const prefix = `${metric}.${sensitiveAttribute}=`;
      metrics[`${prefix}${group.group}`.slice(0, MAX_METRIC_NAME_LENGTH)] = value;
    }
  }
  return metrics;
}
