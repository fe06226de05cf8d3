/**
 * Training job names: a pipeline's prefix leaves room for "-<UUID>" within SageMaker's 63
 * characters, 26 at most (docs/training.md), cut with a digest so each model keeps its own.
 */
import { describe, expect, it } from 'vitest';
import { MAX_TRAINING_JOB_NAME_PREFIX_LENGTH, trainingJobNamePrefix } from '../../contracts/training-job';

describe('trainingJobNamePrefix', () => {
  it('keeps a prefix of up to 26 characters, so prefix-<UUID> fits 63', () => {
    expect(MAX_TRAINING_JOB_NAME_PREFIX_LENGTH).toBe(26);
    expect(`${'a'.repeat(26)}-${crypto.randomUUID()}`).toHaveLength(63);
    expect(trainingJobNamePrefix('mlops-dev-churn')).toBe('mlops-dev-churn');
    expect(trainingJobNamePrefix('a'.repeat(26))).toBe('a'.repeat(26));
  });

  it('cuts a longer one to its first 19 characters and 6 hex digits of its SHA-256, distinct per model', () => {
    const churn = trainingJobNamePrefix('customer-analytics-staging-churn');
    const fraud = trainingJobNamePrefix('customer-analytics-staging-fraud');
    expect(churn).toMatch(/^customer-analytics-[0-9a-f]{6}$/);
    expect(fraud).toMatch(/^customer-analytics-[0-9a-f]{6}$/);
    expect(churn).not.toBe(fraud);
    expect(trainingJobNamePrefix('a'.repeat(27))).toMatch(new RegExp(`^${'a'.repeat(19)}-[0-9a-f]{6}$`));
    expect(trainingJobNamePrefix('a'.repeat(27))).toHaveLength(26);
  });
});
