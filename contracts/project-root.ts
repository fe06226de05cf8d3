/**
 * Where the repository's files are, for the code that reads them at synth or at run time: the
 * constructs (Lambda entries, the ASL files), the offline runtime and the build scripts.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: `lambdas/<name>/handler.ts`, `statemachines/`, `training/` are resolved against it. */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
