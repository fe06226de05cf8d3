/**
 * `npm run mutation`: runs Stryker over the pure cores (stryker.config.mjs, incremental), then
 * fails when any mutated module scores below MIN_MUTATION_SCORE. Stryker's own `break` threshold
 * judges the average of all files, which a strong module can lift over a weak one.
 * Usage: npm run mutation [-- <stryker options, e.g. --mutate lambdas/evaluate-model/gate.ts>]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT } from '../contracts/project-root';

/** Per module: detected mutants (killed or timed out) over valid ones (those plus survivors and uncovered). */
export const MIN_MUTATION_SCORE = 90;
const REPORT = path.join(PROJECT_ROOT, 'reports/mutation/mutation.json');

type MutantStatus = 'Killed' | 'Timeout' | 'Survived' | 'NoCoverage' | 'CompileError' | 'RuntimeError' | 'Ignored' | 'Pending';

/** The part of Stryker's mutation-testing-report-schema JSON read here. */
export interface MutationReport {
  readonly files: Record<string, { readonly mutants: readonly { readonly status: MutantStatus }[] }>;
}

export interface ModuleScore {
  readonly file: string;
  readonly detected: number;
  readonly survived: number;
  readonly noCoverage: number;
  /** Percent; 100 for a module without a valid mutant. */
  readonly score: number;
}

export function moduleScores(report: MutationReport): ModuleScore[] {
  return Object.entries(report.files)
    .map(([file, { mutants }]) => {
      const count = (...statuses: MutantStatus[]) => mutants.filter((mutant) => statuses.includes(mutant.status)).length;
      const detected = count('Killed', 'Timeout');
      const survived = count('Survived');
      const noCoverage = count('NoCoverage');
      const valid = detected + survived + noCoverage;
      return { file, detected, survived, noCoverage, score: valid === 0 ? 100 : (100 * detected) / valid };
    })
    .sort((a, b) => (a.file < b.file ? -1 : 1));
}

function main(): void {
  const stryker = spawnSync(path.join(PROJECT_ROOT, 'node_modules/.bin/stryker'), ['run', ...process.argv.slice(2)], {
    cwd: PROJECT_ROOT,
    stdio: 'inherit',
  });
  if (stryker.status !== 0) process.exit(stryker.status ?? 1);
  const scores = moduleScores(JSON.parse(readFileSync(REPORT, 'utf8')) as MutationReport);
  const below = scores.filter((module) => module.score < MIN_MUTATION_SCORE);
  console.log(`\nmutation score per module (at least ${MIN_MUTATION_SCORE}% each):`);
  for (const module of scores) {
    const mark = module.score < MIN_MUTATION_SCORE ? 'BELOW' : 'ok';
    console.log(
      `  ${module.score.toFixed(2).padStart(6)}%  ${module.file}  (${module.detected} detected, ${module.survived} survived, ${module.noCoverage} not covered)  ${mark}`,
    );
  }
  if (below.length > 0) {
    console.error(`\n${below.length} module(s) below ${MIN_MUTATION_SCORE}%: ${below.map((module) => module.file).join(', ')}`);
    process.exit(1);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
