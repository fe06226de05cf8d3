/**
 * The per-module mutation score that `npm run mutation` enforces: timed-out mutants count as
 * detected, survivors and uncovered mutants against, and compile or runtime errors not at all
 * (Stryker's own definition of the score).
 */
import { describe, expect, it } from 'vitest';
import { type MutationReport, moduleScores } from '../../scripts/mutation';

describe('moduleScores', () => {
  it('scores each file as detected over valid mutants, ignoring invalid ones', () => {
    const report: MutationReport = {
      files: {
        'lambdas/b.ts': {
          mutants: [
            { status: 'Killed' },
            { status: 'Timeout' },
            { status: 'Survived' },
            { status: 'NoCoverage' },
            { status: 'CompileError' },
            { status: 'RuntimeError' },
            { status: 'Ignored' },
          ],
        },
        'lambdas/a.ts': { mutants: [{ status: 'Killed' }, { status: 'Killed' }, { status: 'Killed' }, { status: 'Survived' }] },
        'lambdas/empty.ts': { mutants: [{ status: 'Ignored' }] },
      },
    };
    expect(moduleScores(report)).toEqual([
      { file: 'lambdas/a.ts', detected: 3, survived: 1, noCoverage: 0, score: 75 },
      { file: 'lambdas/b.ts', detected: 2, survived: 1, noCoverage: 1, score: 50 },
      { file: 'lambdas/empty.ts', detected: 0, survived: 0, noCoverage: 0, score: 100 },
    ]);
  });
});
