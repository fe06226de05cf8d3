/**
 * The shadow function offline: predict's asynchronous invocations of lambdas/shadow-score, run in
 * the background after predict has answered (as Lambda's event queue does), one at a time per model
 * on this machine's shared cores, with a bounded backlog — a mirror beyond it is lost, as events
 * are when a function cannot keep up. Each observation is kept, timed, for the offline shadow gates
 * (the Shadow* metrics have no CloudWatch to go to).
 */
import type { ShadowScorer } from '../lambdas/shadow-score/shadow-score';
import type { MirrorRequest, ShadowObservation } from '../lambdas/shared/serving/shadow';
import { mirrorPayload } from '../lambdas/shared/serving/shadow';
import type { ShadowWindow } from '../lambdas/shared/shadow-gates';
import { p99 } from '../lambdas/shared/shadow-gates';

/** Mirrored requests waiting for the shadow function offline; more are dropped. */
const MAX_BACKLOG = 50;

export interface ShadowRecord extends Omit<ShadowObservation, 'error'> {
  readonly at: number;
}

export class LocalShadowFunction {
  private readonly records: ShadowRecord[] = [];
  private backlog = 0;
  private tail: Promise<void> = Promise.resolve();
  /** Mirrors lost to the backlog bound or the payload limit. */
  dropped = 0;

  constructor(
    private readonly scorer: () => ShadowScorer,
    private readonly onError: (error: Error) => void = () => {},
    /** The clock the offline shadow gates judge by (the runtime's). */
    private readonly now: () => number = Date.now,
  ) {}

  /** Predict's hand-over: queued to run after the caller has its answer; false when over the 1 MB payload limit. */
  readonly invoke = async (request: MirrorRequest): Promise<boolean> => {
    const payload = mirrorPayload(request);
    if (!payload) return false;
    if (this.backlog >= MAX_BACKLOG) {
      this.dropped++;
      return true;
    }
    // As Lambda hands the function its event: the JSON payload, parsed again.
    const event = JSON.parse(new TextDecoder().decode(payload)) as unknown;
    this.backlog++;
    this.tail = this.tail.then(async () => {
      try {
        const scorer = this.scorer();
        const observation = await scorer.observe(scorer.parse(event));
        const { error: _error, ...figures } = observation;
        this.records.push({ ...figures, at: this.now() });
      } catch (error) {
        this.onError(error as Error);
      } finally {
        this.backlog--;
      }
    });
    return true;
  };

  /** What the Shadow* metrics of `version` hold between `start` and `end`, as GetMetricData would sum them. */
  window(version: number, start: Date, end: Date): ShadowWindow {
    const inWindow = this.records.filter(
      (record) => record.version === version && record.at >= start.getTime() && record.at <= end.getTime(),
    );
    const latency = p99(inWindow.map((record) => record.latencyMs));
    return {
      requests: inWindow.length,
      failedRequests: inWindow.filter((record) => record.failed).length,
      comparedRows: inWindow.reduce((total, record) => total + record.comparedRows, 0),
      agreeingRows: inWindow.reduce((total, record) => total + record.agreeingRows, 0),
      ...(latency === undefined ? {} : { p99LatencyMs: latency }),
    };
  }

  /** Every mirrored request scored so far. */
  observations(): readonly ShadowRecord[] {
    return this.records;
  }

  /** Resolves when the mirrors queued so far have been scored. */
  async settled(): Promise<void> {
    await this.tail;
  }
}
