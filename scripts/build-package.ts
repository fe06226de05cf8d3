/**
 * Builds what `npm pack` ships (package.json "prepack"): the compiled JavaScript and .d.ts of
 * lib/ and contracts/ (tsconfig.build.json, into dist/), every Lambda function prebuilt into
 * dist/lambdas/<name>/index.mjs, and the serving container's build context staged into
 * dist/containers/onnx-serving/. A consumer's synth then needs neither esbuild nor the handlers'
 * runtime dependencies. Usage: npm run build:package
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { PREBUILT_DIRECTORY, PROJECT_ROOT } from '../contracts/project-root';
import { bundleFunction } from '../lib/constructs/mlops-function';
import { PREBUILT_SERVING_CONTEXT, stageServingImageContext } from '../lib/constructs/serving-image';

/** Relative module specifiers in emitted code: `from './x'`, `import('./x')`, `export * from '../y'`. */
const RELATIVE_SPECIFIER = /(\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]*)\2/g;

/**
 * The sources import without extensions (moduleResolution "bundler"); Node's ESM loader and
 * TypeScript's node16 resolution need the file. Each specifier is rewritten to the emitted file it
 * names (`./x.js` or `./x/index.js`); one naming no emitted file stops the build.
 */
export function withExplicitExtensions(code: string, fromFile: string): string {
  return code.replace(RELATIVE_SPECIFIER, (match, keyword: string, quote: string, specifier: string) => {
    if (/\.(m?js|json)$/.test(specifier)) return match;
    const base = path.resolve(path.dirname(fromFile), specifier);
    const candidates = [`${specifier}.js`, `${specifier}/index.js`];
    const found = candidates.find((candidate) => existsSync(path.resolve(path.dirname(fromFile), candidate)));
    if (!found) throw new Error(`${fromFile}: import "${specifier}" names no emitted file (looked for ${base}.js, ${base}/index.js)`);
    return `${keyword}${quote}${found}${quote}`;
  });
}

function emittedFiles(directory: string): string[] {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(js|d\.ts)$/.test(entry.name))
    .map((entry) => path.join(entry.parentPath, entry.name));
}

/** The function folders under lambdas/ (every folder with a handler.ts). */
export function functionDirectories(): string[] {
  return readdirSync(path.join(PROJECT_ROOT, 'lambdas'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(PROJECT_ROOT, 'lambdas', entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

export function buildPackage(): void {
  rmSync(PREBUILT_DIRECTORY, { recursive: true, force: true });
  const tsc = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  execFileSync(process.execPath, [tsc, '-p', path.join(PROJECT_ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  for (const file of emittedFiles(PREBUILT_DIRECTORY)) {
    writeFileSync(file, withExplicitExtensions(readFileSync(file, 'utf8'), file));
  }
  for (const name of functionDirectories()) bundleFunction(name, path.join(PREBUILT_DIRECTORY, 'lambdas', name));
  mkdirSync(PREBUILT_SERVING_CONTEXT, { recursive: true });
  stageServingImageContext(PREBUILT_SERVING_CONTEXT);
}

if (import.meta.url === `file://${process.argv[1]}`) buildPackage();
