import * as fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INSTANCE_TYPE_PATTERN } from '../../contracts/fields';
import {
  HOURS_PER_MONTH,
  INSTANCE_HOUR_USD,
  instanceHourUsd,
  MAX_INSTANCE_HOUR_USD,
  monthlyCostUsd,
  requireInstanceHourUsd,
  SINGLE_SOURCE_PRICES,
  spotSavingsUsd,
  trainingCostUsd,
} from '../../contracts/pricing';

const seconds = fc.double({ min: 0, max: 5 * 24 * 3600, noNaN: true });
const count = fc.integer({ min: 1, max: 100 });
const price = fc.double({ min: 0.001, max: MAX_INSTANCE_HOUR_USD, noNaN: true });

describe('the instance price table', () => {
  it('lists only SageMaker instance types at a positive price below the sanity limit', () => {
    for (const [type, hourUsd] of Object.entries(INSTANCE_HOUR_USD)) {
      expect(type).toMatch(INSTANCE_TYPE_PATTERN);
      expect(hourUsd).toBeGreaterThan(0);
      expect(hourUsd).toBeLessThan(MAX_INSTANCE_HOUR_USD);
    }
    for (const type of SINGLE_SOURCE_PRICES) expect(INSTANCE_HOUR_USD).toHaveProperty([type]);
  });

  it('prices the issue’s example: an idle ml.m5.xlarge costs about $170 a month', () => {
    expect(monthlyCostUsd(1, INSTANCE_HOUR_USD['ml.m5.xlarge']!)).toBeCloseTo(167.9, 6);
  });

  it('takes an override before the table, and the table for a type the overrides leave out', () => {
    expect(instanceHourUsd('ml.m5.xlarge', { 'ml.m5.xlarge': 0.2 })).toBe(0.2);
    expect(instanceHourUsd('ml.m5.xlarge', { 'ml.g6.xlarge': 1 })).toBe(0.23);
    expect(instanceHourUsd('ml.g6.xlarge', { 'ml.g6.xlarge': 1 })).toBe(1);
    expect(instanceHourUsd('ml.g6.xlarge')).toBeUndefined();
    // An inherited property is no price.
    expect(instanceHourUsd('constructor')).toBeUndefined();
  });

  it('refuses a type without a price, naming it, its user and the key to add', () => {
    expect(() => requireInstanceHourUsd('ml.g6.xlarge', 'model "churn"\'s training')).toThrow(
      'model "churn"\'s training uses ml.g6.xlarge, which has no price in the platform\'s table (us-east-1, 2026-12-01); add its on-demand USD per hour as "pricing": { "instanceHourUsd": { "ml.g6.xlarge": <price> } } in the mlops configuration',
    );
    expect(requireInstanceHourUsd('ml.g6.xlarge', 'x', { 'ml.g6.xlarge': 1.2 })).toBe(1.2);
  });
});

describe('cost arithmetic', () => {
  it('costs a job at billable seconds × instances × hourly price / 3600 (hand-computed)', () => {
    // 1 h 30 min billed on 2 × ml.g5.xlarge: 1.5 × 2 × 1.408.
    expect(trainingCostUsd(5400, 2, 1.408)).toBeCloseTo(4.224, 12);
    // Trained 40 min, billed 10 min on 1 × ml.p3.2xlarge: 30 min saved = 1.9125.
    expect(spotSavingsUsd(2400, 600, 1, 3.825)).toBeCloseTo(1.9125, 12);
    expect(monthlyCostUsd(2, 0.102)).toBeCloseTo(148.92, 10);
  });

  it('never reports negative savings, and spend plus savings is what on-demand training would have cost', () => {
    fc.assert(
      fc.property(seconds, seconds, count, price, (training, billable, instances, hourUsd) => {
        const savings = spotSavingsUsd(training, billable, instances, hourUsd);
        expect(savings).toBeGreaterThanOrEqual(0);
        expect(savings).toBeCloseTo((Math.max(0, training - billable) * instances * hourUsd) / 3600, 6);
        if (billable <= training) {
          const onDemand = trainingCostUsd(training, instances, hourUsd);
          expect(trainingCostUsd(billable, instances, hourUsd) + savings).toBeCloseTo(onDemand, 6);
        } else {
          expect(savings).toBe(0);
        }
      }),
    );
  });

  it('grows spend linearly in billable seconds, instances and price, and a month is 730 hours of it', () => {
    fc.assert(
      fc.property(seconds, seconds, count, price, (first, second, instances, hourUsd) => {
        expect(trainingCostUsd(first + second, instances, hourUsd)).toBeCloseTo(
          trainingCostUsd(first, instances, hourUsd) + trainingCostUsd(second, instances, hourUsd),
          6,
        );
        expect(trainingCostUsd(first, instances, 2 * hourUsd)).toBeCloseTo(2 * trainingCostUsd(first, instances, hourUsd), 6);
        expect(monthlyCostUsd(instances, hourUsd)).toBeCloseTo(trainingCostUsd(HOURS_PER_MONTH * 3600, instances, hourUsd), 6);
      }),
    );
  });
});
