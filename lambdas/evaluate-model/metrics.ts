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

/** A group's favourable-outcome rate against the reference group's, with its confidence interval. */
export interface GroupRatio {
  readonly group: string;
  readonly rows: number;
  readonly rate: number;
  /** rate / reference rate (1 is parity). */
  readonly ratio: number;
  /** The ratio's two-sided interval (Katz's log method), [low, high]. */
  readonly interval: [number, number];
}

export interface DisparateImpact {
  /** The largest group: the one every other group is compared with. */
  readonly reference: { readonly group: string; readonly rows: number; readonly rate: number };
  readonly ratios: GroupRatio[];
  /** The ratio furthest from parity (in log terms): what the registry records as `disparateImpact`. */
  readonly value: number;
  readonly confidence: number;
}

/** Two-sided standard normal quantiles for the confidence levels the gate uses. */
const NORMAL_QUANTILES: Readonly<Record<string, number>> = {
  '0.9': 1.6448536269514722,
  '0.95': 1.959963984540054,
  '0.99': 2.5758293035489004,
};

/**
 * Disparate impact: every group's favourable-outcome rate divided by the reference (largest)
 * group's, so a ratio can fall below or above parity, and the allowed range [low, high] means what
 * it says on both sides. Each ratio gets Katz's log interval,
 * exp(ln r ± z·sqrt((1 − p₁)/(n₁p₁) + (1 − p₀)/(n₀p₀))), with half a count added to empty cells, so
 * a gate can tell a real disparity from the noise of a small group.
 */
export function disparateImpact(
  groups: readonly { group: string; rows: number; rate: number }[],
  confidence = 0.95,
): DisparateImpact | undefined {
  if (groups.length < 2) return undefined;
  const z = NORMAL_QUANTILES[String(confidence)];
  if (z === undefined) throw new RangeError(`confidence must be one of ${Object.keys(NORMAL_QUANTILES).join(', ')}, got ${confidence}`);
  // Group names are distinct, so a tie in size is broken by name and never reaches 0.
  const [reference, ...others] = [...groups].sort((a, b) => b.rows - a.rows || (a.group < b.group ? -1 : 1));
  const smoothed = (rate: number, rows: number) => {
    const favourable = rate * rows;
    // Half a count keeps the log defined for a group with no (or only) favourable outcomes.
    const adjusted = favourable === 0 || favourable === rows ? (favourable + 0.5) / (rows + 1) : rate;
    return adjusted;
  };
  const p0 = smoothed(reference!.rate, reference!.rows);
  const ratios = others.map((group): GroupRatio => {
    const ratio = reference!.rate === 0 ? (group.rate === 0 ? 1 : Number.POSITIVE_INFINITY) : group.rate / reference!.rate;
    const p1 = smoothed(group.rate, group.rows);
    const logRatio = Math.log(p1 / p0);
    const spread = z * Math.sqrt((1 - p1) / (group.rows * p1) + (1 - p0) / (reference!.rows * p0));
    return {
      group: group.group,
      rows: group.rows,
      rate: group.rate,
      ratio,
      interval: [Math.exp(logRatio - spread), Math.exp(logRatio + spread)],
    };
  });
  const furthest = ratios.reduce((worst, candidate) =>
    Math.abs(Math.log(candidate.ratio || Number.MIN_VALUE)) > Math.abs(Math.log(worst.ratio || Number.MIN_VALUE)) ? candidate : worst,
  );
  return {
    reference: { group: reference!.group, rows: reference!.rows, rate: reference!.rate },
    ratios,
    value: furthest.ratio,
    confidence,
  };
}
