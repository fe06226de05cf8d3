/**
 * The shadow phase's gates, one rule for both serving modes: over the shadow window the candidate
 * must have been mirrored at least the minimum number of requests, and then agree with production
 * on at least `minAgreement` of the compared rows, fail at most SHADOW_ERROR_RATE_PERCENT of the
 * mirrored requests, and keep its p99 latency within the latency budget. Pure: the figures come
 * from CloudWatch on AWS and from the local observations offline.
 */
import { SHADOW_ERROR_RATE_PERCENT } from '../../contracts/metrics';

/** A shadow short of its minimum requests waits this many windows in all, then fails (nothing against the model). */
export const SHADOW_TRAFFIC_WAIT_WINDOWS = 3;

/** What the shadow window holds of the candidate's mirrored traffic. */
export interface ShadowWindow {
  readonly requests: number;
  readonly failedRequests: number;
  /** Rows compared with production; undefined when agreement is not measured (an endpoint without capture). */
  readonly comparedRows?: number;
  readonly agreeingRows?: number;
  /** Undefined when no latency was recorded. */
  readonly p99LatencyMs?: number;
}

export interface ShadowGates {
  readonly minRequests: number;
  /** Share of compared rows, in [0, 1]. */
  readonly minAgreement: number;
  readonly latencyBudgetMs: number;
  /** @default SHADOW_ERROR_RATE_PERCENT */
  readonly errorRatePercent?: number;
}

export type ShadowJudgement =
  | { readonly decided: false; readonly reason: string }
  | {
      readonly decided: true;
      readonly passed: boolean;
      /** Agreement in [0, 1]; undefined when not measured. */
      readonly agreement: number | undefined;
      readonly errorRatePercent: number;
      /** One sentence per failed gate. */
      readonly failures: readonly string[];
      /** The figures in one line, for the registry's audit trail. */
      readonly summary: string;
    };

/** Judges a shadow window; undecided while fewer than `minRequests` requests were mirrored. */
export function judgeShadow(window: ShadowWindow, gates: ShadowGates): ShadowJudgement {
  if (window.requests < gates.minRequests) {
    return { decided: false, reason: `${window.requests} of the ${gates.minRequests} mirrored requests the shadow gates need` };
  }
  const errorLimit = gates.errorRatePercent ?? SHADOW_ERROR_RATE_PERCENT;
  const errorRatePercent = (100 * window.failedRequests) / Math.max(window.requests, 1);
  const measured = window.comparedRows !== undefined && window.agreeingRows !== undefined;
  const agreement = measured && window.comparedRows! > 0 ? window.agreeingRows! / window.comparedRows! : measured ? 0 : undefined;
  const failures: string[] = [];
  if (measured && window.comparedRows === 0) {
    failures.push('the candidate answered none of the mirrored rows');
  } else if (agreement !== undefined && agreement < gates.minAgreement) {
    failures.push(
      `agreement with production ${percent(agreement)} (${window.agreeingRows!.toLocaleString('en')} of ${window.comparedRows!.toLocaleString('en')} rows) is below the minimum ${percent(gates.minAgreement)}`,
    );
  }
  if (errorRatePercent > errorLimit) {
    failures.push(
      `error rate ${round(errorRatePercent)}% (${window.failedRequests} of ${window.requests} mirrored requests) is above ${errorLimit}%`,
    );
  }
  if (window.p99LatencyMs !== undefined && window.p99LatencyMs > gates.latencyBudgetMs) {
    failures.push(`p99 latency ${round(window.p99LatencyMs)} ms is above the ${gates.latencyBudgetMs} ms budget`);
  }
  const summary = [
    `${window.requests.toLocaleString('en')} mirrored requests`,
    agreement === undefined ? 'agreement not measured' : `agreement ${percent(agreement)}`,
    `error rate ${round(errorRatePercent)}%`,
    window.p99LatencyMs === undefined ? 'no latency recorded' : `p99 latency ${round(window.p99LatencyMs)} ms`,
  ].join(', ');
  return { decided: true, passed: failures.length === 0, agreement, errorRatePercent, failures, summary };
}

/** p99 by nearest rank, as CloudWatch's percentile of raw values; undefined for no values. */
export function p99(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.ceil(0.99 * sorted.length) - 1];
}

function percent(share: number): string {
  return `${round(share * 100)}%`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
