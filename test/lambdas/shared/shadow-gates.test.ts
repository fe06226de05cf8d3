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

  it('allows failed mirrors up to 5% of the requests, not above', () => {
    const window = (failedRequests: number) => ({ requests: 200, failedRequests, comparedRows: 200, agreeingRows: 200 });
    expect(judgeShadow(window(10), GATES)).toMatchObject({ decided: true, passed: true, errorRatePercent: 5 });
    expect(judgeShadow(window(11), GATES)).toMatchObject({
      decided: true,
      passed: false,
      failures: ['error rate 5.5% (11 of 200 mirrored requests) is above 5%'],
    });
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

  it('reports an agreement of 0% (not an undefined share) when no rows were compared', () => {
    const none = judgeShadow({ requests: 100, failedRequests: 0, comparedRows: 0, agreeingRows: 0, p99LatencyMs: 10 }, GATES);
    expect(none).toMatchObject({ decided: true, passed: false, agreement: 0 });
    expect(none.decided && none.summary).toBe('100 mirrored requests, agreement 0%, error rate 0%, p99 latency 10 ms');
  });

  it('measures agreement only when both the compared and the agreeing rows are known', () => {
    const comparedOnly = judgeShadow({ requests: 100, failedRequests: 0, comparedRows: 50 }, GATES);
    expect(comparedOnly).toMatchObject({ decided: true, passed: true, agreement: undefined, failures: [] });
    expect(comparedOnly.decided && comparedOnly.summary).toBe(
      '100 mirrored requests, agreement not measured, error rate 0%, no latency recorded',
    );
    const agreeingOnly = judgeShadow({ requests: 100, failedRequests: 0, agreeingRows: 50 }, GATES);
    expect(agreeingOnly).toMatchObject({ decided: true, passed: true, agreement: undefined, failures: [] });
  });

  it('says so in the summary when no latency was recorded, and judges latency by the other gates alone', () => {
    const judgement = judgeShadow({ requests: 100, failedRequests: 0, comparedRows: 10, agreeingRows: 10 }, GATES);
    expect(judgement).toEqual({
      decided: true,
      passed: true,
      agreement: 1,
      errorRatePercent: 0,
      failures: [],
      summary: '100 mirrored requests, agreement 100%, error rate 0%, no latency recorded',
    });
  });

  it('passes each gate at exactly its limit and fails it one step past', () => {
    const atLimits = { requests: 100, failedRequests: 5, comparedRows: 10, agreeingRows: 9, p99LatencyMs: 200 };
    expect(judgeShadow(atLimits, GATES)).toMatchObject({ decided: true, passed: true, failures: [], errorRatePercent: 5, agreement: 0.9 });
    expect(judgeShadow({ ...atLimits, failedRequests: 4, agreeingRows: 10, p99LatencyMs: 199 }, GATES)).toMatchObject({ passed: true });
    expect(judgeShadow({ ...atLimits, agreeingRows: 8 }, GATES)).toMatchObject({
      passed: false,
      failures: ['agreement with production 80% (8 of 10 rows) is below the minimum 90%'],
    });
    expect(judgeShadow({ ...atLimits, failedRequests: 6 }, GATES)).toMatchObject({
      passed: false,
      failures: ['error rate 6% (6 of 100 mirrored requests) is above 5%'],
    });
    expect(judgeShadow({ ...atLimits, p99LatencyMs: 200.01 }, GATES)).toMatchObject({
      passed: false,
      failures: ['p99 latency 200.01 ms is above the 200 ms budget'],
    });
  });

  it('judges the error rate against the configured limit when one is given', () => {
    const window = { requests: 200, failedRequests: 3, p99LatencyMs: 10 };
    expect(judgeShadow(window, { ...GATES, errorRatePercent: 1.5 })).toMatchObject({ passed: true, errorRatePercent: 1.5 });
    expect(judgeShadow(window, { ...GATES, errorRatePercent: 1 })).toMatchObject({
      passed: false,
      failures: ['error rate 1.5% (3 of 200 mirrored requests) is above 1%'],
    });
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
