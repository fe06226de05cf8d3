// @ts-check
/**
 * Mutation testing of the pure cores: `npm run mutation` (see docs/development.md). Stryker
 * mutates each listed module, runs the unit tests that cover the mutant and reports the mutants
 * no test notices; scripts/mutation-scores.ts then fails the run when a module scores below 90%.
 *
 * Equivalent mutants (no test can tell them from the original) are disabled where they occur,
 * with `// Stryker disable next-line <mutator>: <reason>`; the list below names each one.
 *
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: true },
  mutate: [
    'lambdas/evaluate-model/gate.ts',
    'lambdas/evaluate-model/metrics.ts',
    'lambdas/evaluate-model/quality.ts',
    'lambdas/shared/registry/registry-service.ts',
    'lambdas/shared/registry/registry-base.ts',
    'lambdas/validate-data/validation.ts',
    'lambdas/validate-data/report.ts',
    'lambdas/shared/serving/features.ts',
    'lambdas/deploy-serverless/deploy-serverless.ts',
    'lambdas/shared/rollout.ts',
    'lambdas/check-drift/verdict.ts',
  ],
  coverageAnalysis: 'perTest',
  // Results are kept in reports/ and reused for unchanged code and tests: a rerun after a small change is quick.
  incremental: true,
  incrementalFile: 'reports/stryker-incremental.json',
  // Two cores, shared: one mutant at a time per core.
  concurrency: 2,
  reporters: ['clear-text', 'progress', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  thresholds: { high: 95, low: 90, break: null },
  tempDirName: '.stryker-tmp',
  cleanTempDir: true,
};
