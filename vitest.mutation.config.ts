/**
 * The tests Stryker runs against mutants of the pure cores (stryker.config.mjs): each core's own
 * unit tests. Handler, statemachine and end-to-end tests reach these modules too, but through
 * s3rver, onnxruntime and whole executions: they would run for nearly every mutant at many times
 * the cost, and pinning down a core's rules is its unit tests' job.
 */
import { defineConfig } from 'vitest/config';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Quickest test files first (by the duration of their last whole run, Stryker's dry run): a
 * mutant's run stops at its first failing test (Stryker's bail), and vitest's default order,
 * longest first, would run the heavy profile properties before a module's own quick unit tests
 * for every mutant they both cover.
 */
class QuickestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const duration = (file: TestSpecification) => this.ctx.cache.getTestSpecificationResult(file)?.duration ?? 0;
    return [...files].sort((a, b) => duration(a) - duration(b));
  }
}

export default defineConfig({
  test: {
    include: [
      'test/lambdas/evaluate-model/gate.test.ts',
      'test/lambdas/evaluate-model/metrics.test.ts',
      'test/lambdas/evaluate-model/quality.test.ts',
      'test/lambdas/evaluate-model/sklearn-reference.test.ts',
      'test/lambdas/shared/registry/registry-service.test.ts',
      'test/lambdas/shared/registry/registry-rules.test.ts',
      'test/lambdas/shared/registry/registry-idempotency.test.ts',
      'test/lambdas/validate-data/validation.test.ts',
      'test/lambdas/validate-data/validation-rules.test.ts',
      'test/lambdas/validate-data/report.test.ts',
      'test/lambdas/shared/serving/features.test.ts',
      'test/lambdas/deploy-serverless/deploy-serverless.test.ts',
      'test/lambdas/deploy-endpoint/deploy-endpoint.test.ts',
      'test/lambdas/shared/rollout.test.ts',
      'test/lambdas/check-drift/verdict.test.ts',
      'test/lambdas/check-drift/verdict-rules.test.ts',
      'test/lambdas/check-drift/statistics.test.ts',
      'test/lambdas/check-drift/chi-square.test.ts',
      'test/lambdas/check-drift/js-p-value.test.ts',
      'test/lambdas/check-drift/wasserstein.test.ts',
      'test/lambdas/check-drift/ks-two-sample.test.ts',
      'test/lambdas/shared/profile/profile.test.ts',
      'test/lambdas/shared/profile/profilers.test.ts',
      'test/lambdas/shared/profile/sketches.test.ts',
      'test/lambdas/shared/profile/bin-means.test.ts',
      'test/lambdas/shared/profile/codec.test.ts',
      'test/lambdas/shared/profile/edge-index.test.ts',
      'test/lambdas/shared/profile/tail-values.test.ts',
      'test/lambdas/shared/profile/quantile-sketch.test.ts',
      'test/lambdas/shared/shadow-gates.test.ts',
      'test/lambdas/deploy-endpoint/shadow-capture.test.ts',
      'test/lambdas/deploy-endpoint/shadow-rollout.test.ts',
      'test/lambdas/deploy-endpoint/endpoint-deployment.test.ts',
    ],
    // The registry and rollout tests also run against DynamoDB Local (as in vitest.config.ts).
    globalSetup: ['test/support/global-setup.ts'],
    setupFiles: ['test/support/fast-check.ts'],
    // Mutants of the registry service are store-independent: its shared contract runs on the in-memory store only.
    // MUTATION_TESTING: the heaviest property tests run fewer seeds per mutant (never in `npm test`).
    env: { REGISTRY_CONTRACT_STORES: 'in-memory', MUTATION_TESTING: '1' },
    sequence: { sequencer: QuickestFirst },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
