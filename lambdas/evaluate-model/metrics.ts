/**
 * Model quality metrics over plain arrays, no I/O: confusion matrices and the classification
 * scores read from them, ROC-AUC by ranks (ties share their average rank, so it equals the
 * Mann–Whitney U probability), regression errors, and the disparate-impact ratio of group rates.
 */

/** `counts[actual][predicted]`, classes numbered 0 … k-1. */
export type ConfusionCounts = number[][];

export interface ClassificationScores {
  readonly accuracy: number;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
}

export interface RegressionScores {
  readonly mae: number;
  readonly rmse: number;
  readonly r2: number;
}

export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>, classes: number): ConfusionCounts {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} actual values but ${predicted.length} predictions`);
  const counts = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let row = 0; row < actual.length; row++) counts[actual[row]!]![predicted[row]!]!++;
  return counts;
}

/** A ratio whose denominator is 0 counts as 0 (precision with no positive prediction, as scikit-learn's default). */
function ratio(numerator: number, denominator: number): number {
  return denominator === 0 ? 0 : numerator / denominator;
}

function harmonicMean(precision: number, recall: number): number {
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

function accuracyOf(counts: ConfusionCounts): number {
  let correct = 0;
  let total = 0;
  counts.forEach((row, actual) => {
    row.forEach((count, predicted) => {
      total += count;
      if (actual === predicted) correct += count;
    });
  });
  return ratio(correct, total);
}

/** Precision, recall and F1 of class `positive` against all others. */
function oneVsRest(counts: ConfusionCounts, positive: number): { precision: number; recall: number; f1: number } {
  const truePositives = counts[positive]![positive]!;
  const predictedPositives = counts.reduce((sum, row) => sum + row[positive]!, 0);
  const actualPositives = counts[positive]!.reduce((sum, count) => sum + count, 0);
  const precision = ratio(truePositives, predictedPositives);
  const recall = ratio(truePositives, actualPositives);
  return { precision, recall, f1: harmonicMean(precision, recall) };
}

/** Binary scores: precision, recall and F1 of class 1, the positive class. */
export function binaryScores(counts: ConfusionCounts): ClassificationScores {
  return { accuracy: accuracyOf(counts), ...oneVsRest(counts, 1) };
}

/** Multiclass scores: precision, recall and F1 macro-averaged over the classes present in the data or the predictions. */
export function multiclassScores(counts: ConfusionCounts): ClassificationScores {
  const present = counts
    .map((_, label) => label)
    .filter((label) => counts[label]!.some((count) => count > 0) || counts.some((row) => row[label]! > 0));
  const perClass = present.map((label) => oneVsRest(counts, label));
  const mean = (pick: (scores: { precision: number; recall: number; f1: number }) => number) =>
    ratio(
      perClass.reduce((sum, scores) => sum + pick(scores), 0),
      perClass.length,
    );
  return { accuracy: accuracyOf(counts), precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1) };
}

/**
 * Area under the ROC curve: the probability that a random positive row scores above a random
 * negative one, a tie counting one half. Computed from ranks (ties get their average rank) in
 * O(n log n). Undefined when the rows hold only one class.
 */
export function rocAuc(scores: ArrayLike<number>, positive: ArrayLike<boolean>): number | undefined {
  const n = scores.length;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let positiveRankSum = 0;
  for (let start = 0; start < n; ) {
    let end = start + 1;
    while (end < n && scores[order[end]!] === scores[order[start]!]) end++;
    // Ranks start + 1 … end share their mean.
    const averageRank = (start + 1 + end) / 2;
    for (let i = start; i < end; i++) {
      if (positive[order[i]!]) {
        positives++;
        positiveRankSum += averageRank;
      }
    }
    start = end;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return undefined;
  return (positiveRankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * One-vs-rest ROC-AUC averaged over the classes that have both positive and negative rows.
 * `probabilities` is row-major [rows, classes].
 */
export function macroRocAuc(probabilities: ArrayLike<number>, actual: ArrayLike<number>, classes: number): number | undefined {
  const rows = actual.length;
  const areas: number[] = [];
  const column = new Float64Array(rows);
  const isClass = new Array<boolean>(rows);
  for (let label = 0; label < classes; label++) {
    for (let row = 0; row < rows; row++) {
      column[row] = probabilities[row * classes + label]!;
      isClass[row] = actual[row] === label;
    }
    const area = rocAuc(column, isClass);
    if (area !== undefined) areas.push(area);
  }
  return areas.length === 0 ? undefined : areas.reduce((sum, area) => sum + area, 0) / areas.length;
}

/**
 * Mean absolute error, root mean squared error and R² (1 − SSE / total sum of squares). With a
 * constant target R² is 1 for a perfect fit and 0 otherwise, as scikit-learn reports it.
 */
export function regressionScores(actual: ArrayLike<number>, predicted: ArrayLike<number>): RegressionScores {
  const n = actual.length;
  if (n === 0) throw new Error('regression scores need at least one row');
  let absolute = 0;
  let squared = 0;
  let mean = 0;
  for (let row = 0; row < n; row++) mean += actual[row]!;
  mean /= n;
  let total = 0;
  for (let row = 0; row < n; row++) {
    const error = predicted[row]! - actual[row]!;
    absolute += Math.abs(error);
    squared += error * error;
    total += (actual[row]! - mean) ** 2;
  }
  const r2 = total === 0 ? (squared === 0 ? 1 : 0) : 1 - squared / total;
  return { mae: absolute / n, rmse: Math.sqrt(squared / n), r2 };
}

/**
 * Disparate impact: the lowest group's favourable-outcome rate divided by the highest's (1 is
 * parity). When no group has a favourable outcome every rate is equal, and the ratio is 1.
 */
export function disparateImpact(rates: readonly number[]): number | undefined {
  if (rates.length < 2) return undefined;
  const highest = Math.max(...rates);
  return highest === 0 ? 1 : Math.min(...rates) / highest;
}
