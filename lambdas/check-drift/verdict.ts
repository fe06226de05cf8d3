/**
 * From two profiles to a drift verdict: compares every feature (and the prediction), corrects the
 * p-values for testing many features at once, applies each feature's thresholds and decides
 * whether the dataset drifted. Pure code, no AWS.
 *
 * A feature drifts when any of these holds, with p-values adjusted across the model's features:
 * - its distribution test rejects "same distribution" (KS for numeric, chi-square for categorical):
 *   adjusted p < ksPValue;
 * - PSI ≥ psiDrift, and the PSI is beyond sampling noise (adjusted PSI p-value < ksPValue);
 * - JS distance ≥ jsDistance, and beyond sampling noise likewise.
 * It warns when not drifted but PSI ≥ psiWarn beyond noise. The dataset drifts when at least
 * driftedFeatureShare of the evaluated features drift, or any critical feature does. Below
 * minSampleSize captured rows there is no verdict ("insufficient-data"), never a false alarm.
 * The prediction is compared too (predicted labels or values against the training target) and
 * reported, but never drives the verdict: an uncalibrated classifier predicts the positive class
 * at a different rate than the training labels show, and that offset is not drift.
 */

import type { DriftRules, DriftThresholds, MultipleTesting } from '../../contracts/drift';
import type { DatasetProfile } from '../shared/profile/profile';
import { type ColumnComparison, compareCategorical, compareNumeric } from './statistics';

/** A column to compare: a model input (by name in both profiles) or the prediction (current name, reference column). */
export interface ComparedColumn {
  readonly name: string;
  readonly role: 'feature' | 'prediction';
  /** The reference profile's column (the target, for the prediction). */
  readonly referenceColumn: string;
  readonly critical: boolean;
}

export type FeatureStatus = 'drift' | 'warn' | 'stable' | 'insufficient-data' | 'not-in-reference';

export interface FeatureDrift {
  readonly name: string;
  readonly role: 'feature' | 'prediction';
  readonly critical: boolean;
  readonly status: FeatureStatus;
  /** Why the status, one line per rule that fired (empty when stable). */
  readonly reasons: string[];
  readonly thresholds: DriftThresholds;
  readonly comparison?: ColumnComparison;
  /** P-values after the multiple-testing correction (features only; the prediction's are unadjusted). */
  readonly adjusted?: { readonly testPValue: number; readonly psiPValue: number; readonly jsPValue: number };
}

export type DatasetStatus = 'drift' | 'no-drift' | 'insufficient-data';

export interface DriftVerdict {
  readonly status: DatasetStatus;
  /** Captured rows in the window. */
  readonly sampleSize: number;
  readonly minSampleSize: number;
  /** Features with a status of drift, warn or stable. */
  readonly evaluatedFeatures: number;
  readonly driftedFeatures: string[];
  readonly warnedFeatures: string[];
  /** Drifted / evaluated features; null without a verdict. */
  readonly driftedFeatureShare: number | null;
  readonly criticalDrift: string[];
  readonly multipleTesting: MultipleTesting;
  readonly features: FeatureDrift[];
  readonly prediction: FeatureDrift | null;
}

/** Adjusted p-values, in the input's order. */
export function adjustPValues(pValues: readonly number[], method: MultipleTesting): number[] {
  const count = pValues.length;
  if (method === 'none' || count === 0) return [...pValues];
  if (method === 'bonferroni') return pValues.map((p) => Math.min(1, p * count));
  // Benjamini–Hochberg step-up: adjusted p_(i) = min over j ≥ i of (count / j) · p_(j).
  const order = pValues.map((_, index) => index).sort((a, b) => pValues[a]! - pValues[b]!);
  const adjusted = new Array<number>(count);
  let running = 1;
  for (let rank = count; rank >= 1; rank--) {
    const index = order[rank - 1]!;
    running = Math.min(running, (pValues[index]! * count) / rank);
    adjusted[index] = Math.min(1, running);
  }
  return adjusted;
}

function thresholdsFor(rules: DriftRules, name: string): DriftThresholds {
  const own = rules.featureThresholds[name] ?? {};
  return {
    psiWarn: own.psiWarn ?? rules.psiWarn,
    psiDrift: own.psiDrift ?? rules.psiDrift,
    ksPValue: own.ksPValue ?? rules.ksPValue,
    jsDistance: own.jsDistance ?? rules.jsDistance,
  };
}

function testPValue(comparison: ColumnComparison): number {
  return comparison.kind === 'numeric' ? comparison.ksPValue : comparison.chiSquarePValue;
}

function format(value: number): string {
  return value === 0 ? '0' : Math.abs(value) < 1e-3 ? value.toExponential(2) : value.toPrecision(3);
}

/** One feature's status under its thresholds, with a line per rule that fired; `adjusted` holds its corrected p-values. */
export function classifyFeature(
  comparison: ColumnComparison,
  thresholds: DriftThresholds,
  adjusted: { testPValue: number; psiPValue: number; jsPValue: number },
): { status: FeatureStatus; reasons: string[] } {
  const reasons: string[] = [];
  const alpha = thresholds.ksPValue;
  const test = comparison.kind === 'numeric' ? 'KS' : 'chi-square';
  if (adjusted.testPValue < alpha) reasons.push(`${test} p ${format(adjusted.testPValue)} < ${alpha}`);
  if (comparison.psi >= thresholds.psiDrift && adjusted.psiPValue < alpha) {
    reasons.push(`PSI ${format(comparison.psi)} >= ${thresholds.psiDrift}`);
  }
  if (comparison.js >= thresholds.jsDistance && adjusted.jsPValue < alpha) {
    reasons.push(`JS distance ${format(comparison.js)} >= ${thresholds.jsDistance}`);
  }
  if (comparison.kind === 'categorical' && comparison.newCategories.length > 0) {
    const shown = comparison.newCategories.slice(0, 5).map((category) => JSON.stringify(category.value));
    const more = comparison.newCategories.length > 5 ? ` and ${comparison.newCategories.length - 5} more` : '';
    // Reported whatever the verdict; on its own it is information, not drift.
    reasons.push(`new categories: ${shown.join(', ')}${more}`);
  }
  const drifted = reasons.some((reason) => !reason.startsWith('new categories'));
  if (drifted) return { status: 'drift', reasons };
  if (comparison.psi >= thresholds.psiWarn && adjusted.psiPValue < alpha) {
    return { status: 'warn', reasons: [`PSI ${format(comparison.psi)} >= ${thresholds.psiWarn} (warn)`, ...reasons] };
  }
  return { status: 'stable', reasons };
}

function compareColumn(reference: DatasetProfile, current: DatasetProfile, column: ComparedColumn): ColumnComparison | undefined {
  const referenceColumn = reference.columns[column.referenceColumn];
  const currentColumn = current.columns[column.name];
  if (!referenceColumn || !currentColumn) return undefined;
  if (referenceColumn.kind === 'numeric' && currentColumn.kind === 'numeric')
    return compareNumeric(column.name, referenceColumn, currentColumn);
  if (referenceColumn.kind === 'categorical' && currentColumn.kind === 'categorical')
    return compareCategorical(referenceColumn, currentColumn);
  return undefined;
}

export function assessDrift(
  reference: DatasetProfile,
  current: DatasetProfile,
  columns: readonly ComparedColumn[],
  rules: DriftRules,
): DriftVerdict {
  const compared = columns.map((column) => ({ column, comparison: compareColumn(reference, current, column) }));
  const enough = (comparison: ColumnComparison | undefined) =>
    comparison !== undefined && comparison.currentCount >= rules.minSampleSize && comparison.referenceCount > 0;
  // The correction's family is the features with a usable comparison; the prediction stays outside it.
  const family = compared.filter((entry) => entry.column.role === 'feature' && enough(entry.comparison));
  const adjust = (pick: (comparison: ColumnComparison) => number) =>
    adjustPValues(
      family.map((entry) => pick(entry.comparison!)),
      rules.multipleTesting,
    );
  const adjustedTest = adjust(testPValue);
  const adjustedPsi = adjust((comparison) => comparison.psiPValue);
  const adjustedJs = adjust((comparison) => comparison.jsPValue);

  const results = compared.map(({ column, comparison }): FeatureDrift => {
    const thresholds = thresholdsFor(rules, column.name);
    const base = { name: column.name, role: column.role, critical: column.critical, thresholds };
    if (!comparison) {
      return {
        ...base,
        status: 'not-in-reference',
        reasons: [`the reference profile has no comparable column "${column.referenceColumn}"`],
      };
    }
    if (!enough(comparison)) {
      return {
        ...base,
        status: 'insufficient-data',
        reasons: [`${comparison.currentCount} values in the window, fewer than minSampleSize ${rules.minSampleSize}`],
        comparison,
      };
    }
    const position = family.findIndex((entry) => entry.column === column);
    const adjusted =
      position >= 0
        ? { testPValue: adjustedTest[position]!, psiPValue: adjustedPsi[position]!, jsPValue: adjustedJs[position]! }
        : { testPValue: testPValue(comparison), psiPValue: comparison.psiPValue, jsPValue: comparison.jsPValue };
    return { ...base, ...classifyFeature(comparison, thresholds, adjusted), comparison, adjusted };
  });

  const features = results.filter((result) => result.role === 'feature');
  const prediction = results.find((result) => result.role === 'prediction') ?? null;
  const evaluated = features.filter((feature) => feature.status === 'drift' || feature.status === 'warn' || feature.status === 'stable');
  const drifted = evaluated.filter((feature) => feature.status === 'drift');
  const sampleSize = current.rowCount;
  const verdictPossible = sampleSize >= rules.minSampleSize && evaluated.length > 0;
  const share = verdictPossible ? drifted.length / evaluated.length : null;
  const criticalDrift = drifted.filter((feature) => feature.critical).map((feature) => feature.name);
  const status: DatasetStatus = !verdictPossible
    ? 'insufficient-data'
    : share! >= rules.driftedFeatureShare || criticalDrift.length > 0
      ? 'drift'
      : 'no-drift';
  return {
    status,
    sampleSize,
    minSampleSize: rules.minSampleSize,
    evaluatedFeatures: evaluated.length,
    driftedFeatures: drifted.map((feature) => feature.name),
    warnedFeatures: evaluated.filter((feature) => feature.status === 'warn').map((feature) => feature.name),
    driftedFeatureShare: share,
    criticalDrift: verdictPossible ? criticalDrift : [],
    multipleTesting: rules.multipleTesting,
    features,
    prediction,
  };
}
