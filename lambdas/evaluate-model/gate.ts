/**
 * The evaluation gate: the challenger's metrics against the configured bounds, its disparate
 * impact against the allowed range, and each gated metric against the production champion's
 * within the champion margin. Every failed check yields one sentence a person can act on.
 */
import type { ModelDocument } from '../../contracts/model';
import type { DisparateImpact } from './metrics';

type Thresholds = ModelDocument['thresholds'];
type ProblemType = ModelDocument['problemType'];

/** Error metrics: lower is better. Every other gated metric is a score where higher is better. */
const LOWER_IS_BETTER = new Set(['mae', 'rmse']);

/** Compared with the champion when no metric bounds are configured. */
export const DEFAULT_CHAMPION_METRICS: Readonly<Record<ProblemType, readonly string[]>> = {
  'binary-classification': ['accuracy', 'f1'],
  'multiclass-classification': ['accuracy', 'f1'],
  regression: ['rmse'],
};

export interface Champion {
  readonly version: number;
  readonly metrics: Record<string, number>;
}

export interface GateInput {
  readonly problemType: ProblemType;
  readonly thresholds: Thresholds;
  readonly metrics: Record<string, number>;
  /** Metrics that could not be computed, with why. */
  readonly unavailable: Record<string, string>;
  /** The holdout's size: rows in all and, for classification, per class label (every label, 0 included). */
  readonly holdout: { readonly rows: number; readonly classes?: Readonly<Record<string, number>> };
  /** Present when a sensitive attribute is configured and two groups are large enough to compare. */
  readonly disparateImpact?: { readonly attribute: string } & DisparateImpact;
  readonly champion?: Champion;
}

export interface ChampionComparison {
  readonly metric: string;
  readonly challenger: number;
  readonly champion: number;
  /** The worst challenger value the margin allows. */
  readonly limit: number;
  readonly passed: boolean;
}

export interface GateOutcome {
  readonly passed: boolean;
  readonly reasons: string[];
  /** The metrics compared with the champion: those with bounds, else DEFAULT_CHAMPION_METRICS. */
  readonly gatedMetrics: string[];
  readonly comparisons: ChampionComparison[];
  /** Gated metrics the champion has no value for (not compared). */
  readonly uncompared: string[];
}

/** Numbers in reasons: at most 4 decimals, no trailing zeros. */
export function formatNumber(value: number): string {
  return String(Number(value.toFixed(4)));
}

export function applyGate(input: GateInput): GateOutcome {
  const { thresholds, metrics } = input;
  const reasons: string[] = [];
  // Too few holdout rows make every metric below noise: refuse to judge rather than pass by luck.
  const minimum = thresholds.minHoldoutRows;
  if (input.holdout.classes) {
    const short = Object.entries(input.holdout.classes).filter(([, rows]) => rows < minimum);
    if (short.length > 0) {
      reasons.push(
        `the holdout is too small to judge the model: ${short.map(([label, rows]) => `${rows} row${rows === 1 ? '' : 's'} of class "${label}"`).join(', ')} (at least ${minimum} per class needed, thresholds.minHoldoutRows)`,
      );
    }
  } else if (input.holdout.rows < minimum) {
    reasons.push(
      `the holdout is too small to judge the model: ${input.holdout.rows} rows (at least ${minimum} needed, thresholds.minHoldoutRows)`,
    );
  }
  const bounds = Object.entries(thresholds.metrics) as [string, { min?: number; max?: number }][];
  for (const [metric, bound] of bounds) {
    const value = metrics[metric];
    if (value === undefined) {
      const why = input.unavailable[metric] ?? 'it was not computed';
      reasons.push(`${metric} could not be computed (${why}), and the gate requires ${describeBound(bound)}`);
      continue;
    }
    const { min = Number.NEGATIVE_INFINITY, max = Number.POSITIVE_INFINITY } = bound;
    if (value < min) reasons.push(`${metric} ${formatNumber(value)} is below the minimum ${formatNumber(min)}`);
    if (value > max) reasons.push(`${metric} ${formatNumber(value)} is above the maximum ${formatNumber(max)}`);
  }

  if (input.disparateImpact) {
    // A group fails only when its whole interval lies outside the allowed range: a small group's
    // ratio swings with sampling noise, and the gate must not reject (or pass) a model on noise.
    const [low, high] = thresholds.disparateImpact;
    const { attribute, reference, confidence } = input.disparateImpact;
    for (const ratio of input.disparateImpact.ratios) {
      const [lower, upper] = ratio.interval;
      if (upper < low || lower > high) {
        reasons.push(
          `disparate impact of ${attribute} "${ratio.group}" against "${reference.group}" is ${formatNumber(ratio.ratio)} ` +
            `(${formatNumber(confidence * 100)}% interval ${formatNumber(lower)}–${formatNumber(upper)}, ${ratio.rows} vs ${reference.rows} rows), ` +
            `outside [${formatNumber(low)}, ${formatNumber(high)}]`,
        );
      }
    }
  }

  const gatedMetrics = bounds.length > 0 ? bounds.map(([metric]) => metric) : [...DEFAULT_CHAMPION_METRICS[input.problemType]];
  const comparisons: ChampionComparison[] = [];
  const uncompared: string[] = [];
  const { champion } = input;
  if (champion) {
    const margin = thresholds.championMargin;
    for (const metric of gatedMetrics) {
      const challenger = metrics[metric];
      const incumbent = champion.metrics[metric];
      if (challenger === undefined) continue;
      if (incumbent === undefined) {
        uncompared.push(metric);
        continue;
      }
      // Error metrics have the data's scale, so their margin is a fraction of the champion's error.
      const lowerIsBetter = LOWER_IS_BETTER.has(metric);
      const limit = lowerIsBetter ? incumbent * (1 + margin) : incumbent - margin;
      const passed = lowerIsBetter ? challenger <= limit : challenger >= limit;
      comparisons.push({ metric, challenger, champion: incumbent, limit, passed });
      if (!passed) {
        const allowance = lowerIsBetter
          ? `${formatNumber(margin)} (${formatNumber(margin * 100)}% of its ${metric})`
          : formatNumber(margin);
        reasons.push(
          `${metric} ${formatNumber(challenger)} is worse than the production version ${champion.version} (${formatNumber(incumbent)}) by more than the margin ${allowance}`,
        );
      }
    }
  }
  return { passed: reasons.length === 0, reasons, gatedMetrics, comparisons, uncompared };
}

function describeBound(bound: { min?: number; max?: number }): string {
  const parts = [
    ...(bound.min === undefined ? [] : [`min ${formatNumber(bound.min)}`]),
    ...(bound.max === undefined ? [] : [`max ${formatNumber(bound.max)}`]),
  ];
  return parts.join(' and ');
}
