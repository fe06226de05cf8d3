/**
 * The shadow gates (lambdas/shared/shadow-gates.ts): undecided below the minimum mirrored
 * requests; then passed exactly when agreement, error rate and p99 latency are all within their
 * limits, each failed gate named; p99 by nearest rank.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SHADOW_ERROR_RATE_PERCENT } from '../../../contracts/metrics';
import { judgeShadow, p99, type ShadowWindow } from '../../../lambdas/shared/shadow-gates';

const GATES = { minRequests: 100, minAgreement: 0.9, latencyBudgetMs: 200 };

describe('judgeShadow', () => {
  it('waits while fewer than the minimum requests were mirrored, whatever the figures', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 99 }), fc.nat(), fc.nat(), (requests, compared, agreeing) => {
        const judgement = judgeShadow(
          { requests, failedRequests: 0, comparedRows: compared, agreeingRows: Math.min(agreeing, compared) },
          GATES,
        );
        expect(judgement).toEqual({ decided: false, reason: `${requests} of the 100 mirrored requests the shadow gates need` });
      }),
    );
  });

  it('passes exactly when agreement, error rate and p99 latency are within their limits, naming each failed gate', () => {
    const windows = fc
      .record({
        requests: fc.integer({ min: 100, max: 10_000 }),
        failedShare: fc.double({ min: 0, max: 1, noNaN: true }),
        compared: fc.integer({ min: 1, max: 100_000 }),
        agreeShare: fc.double({ min: 0, max: 1, noNaN: true }),
        p99: fc.option(fc.double({ min: 0, max: 1000, noNaN: true }), { nil: undefined }),
      })
      .map(({ requests, failedShare, compared, agreeShare, p99: latency }) => ({
        requests,
        failedRequests: Math.floor(failedShare * requests),
        comparedRows: compared,
        agreeingRows: Math.floor(agreeShare * compared),
        ...(latency === undefined ? {} : { p99LatencyMs: latency }),
      }));
    fc.assert(
      fc.property(windows, (window: ShadowWindow) => {
        const judgement = judgeShadow(window, GATES);
        if (!judgement.decided) throw new Error('a window at the minimum must be decided');
        const agreement = window.agreeingRows! / window.comparedRows!;
        const errorRate = (100 * window.failedRequests) / window.requests;
        const agreementOk = agreement >= GATES.minAgreement;
        const errorsOk = errorRate <= SHADOW_ERROR_RATE_PERCENT;
        const latencyOk = window.p99LatencyMs === undefined || window.p99LatencyMs <= GATES.latencyBudgetMs;
        expect(judgement.passed).toBe(agreementOk && errorsOk && latencyOk);
        expect(judgement.agreement).toBeCloseTo(agreement, 12);
        expect(judgement.failures.some((failure) => failure.startsWith('agreement with production'))).toBe(!agreementOk);
        expect(judgement.failures.some((failure) => failure.startsWith('error rate'))).toBe(!errorsOk);
        expect(judgement.failures.some((failure) => failure.startsWith('p99 latency'))).toBe(!latencyOk);
      }),
    );
  });

  it('states the figures in the reason: a label-flipping candidate fails on agreement only', () => {
    const judgement = judgeShadow({ requests: 120, failedRequests: 0, comparedRows: 3000, agreeingRows: 420, p99LatencyMs: 12.345 }, GATES);
    expect(judgement).toEqual({
      decided: true,
      passed: false,
      agreement: 0.14,
      errorRatePercent: 0,
      failures: ['agreement with production 14% (420 of 3,000 rows) is below the minimum 90%'],
      summary: '120 mirrored requests, agreement 14%, error rate 0%, p99 latency 12.35 ms',
    });
  });

  it('fails a candidate that answered none of the mirrored rows, and leaves agreement unmeasured when no rows were compared at all', () => {
    const none = judgeShadow({ requests: 100, failedRequests: 100, comparedRows: 0, agreeingRows: 0 }, GATES);
    expect(none.decided && none.failures).toEqual([
      'the candidate answered none of the mirrored rows',
      'error rate 100% (100 of 100 mirrored requests) is above 5%',
    ]);
    const unmeasured = judgeShadow({ requests: 100, failedRequests: 0, p99LatencyMs: 50 }, GATES);
    expect(unmeasured).toMatchObject({ decided: true, passed: true, agreement: undefined });
    expect(unmeasured.decided && unmeasured.summary).toBe(
      '100 mirrored requests, agreement not measured, error rate 0%, p99 latency 50 ms',
    );
  });
});

describe('p99', () => {
  it('is the nearest-rank 99th percentile: at least 99% of values are at or below it, and it is one of them', () => {
    // size 'max': fast-check 4 otherwise caps an array at 10 values, where the 99th percentile is always the largest.
    fc.assert(
      fc.property(fc.array(fc.double({ min: 0, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 500, size: 'max' }), (values) => {
        const value = p99(values)!;
        expect(values).toContain(value);
        expect(values.filter((other) => other <= value).length).toBeGreaterThanOrEqual(Math.ceil(0.99 * values.length));
        expect(values.filter((other) => other < value).length).toBeLessThan(Math.ceil(0.99 * values.length));
      }),
    );
    expect(p99([])).toBeUndefined();
    expect(p99(Array.from({ length: 100 }, (_, index) => index + 1))).toBe(99);
  });
});
