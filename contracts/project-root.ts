/**
 * Where the repository's (or the installed package's) files are, for the code that reads them at
 * synth or at run time: the constructs (Lambda entries, the ASL files), the offline runtime and
 * the build scripts.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/**
 * The package root: `lambdas/<name>/handler.ts`, `statemachines/`, `training/` are resolved against
 * it. From the sources it is the folder above contracts/; from the compiled package
 * (dist/contracts/) the folder above dist/. Both hold statemachines/.
 */
export const PROJECT_ROOT = [path.resolve(HERE, '..'), path.resolve(HERE, '..', '..')].find((candidate) =>
  existsSync(path.join(candidate, 'statemachines')),
) as string;

/**
 * Whether this code runs from the TypeScript sources (the repository, with tsx or vitest) rather
 * than from the compiled package. The compiled package ships prebuilt Lambda bundles and the
 * serving container's build context (built by `npm pack`), so a consumer's synth needs no esbuild;
 * the sources bundle at synth, so a change to a handler is deployed at once.
 */
export const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

/** Where the compiled package keeps its prebuilt assets (`dist/lambdas/<name>/`, `dist/containers/onnx-serving/`). */
export const PREBUILT_DIRECTORY = path.join(PROJECT_ROOT, 'dist');
