/**
 * Bundles every function under lambdas/ exactly as MlopsFunction does (same esbuild options)
 * and fails when a bundle exceeds its budget: Lambda INIT time is billed and grows with size.
 * Usage: npx tsx scripts/bundle-size.ts [--json]
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { build } from 'esbuild';
import { PROJECT_ROOT } from '../contracts/project-root';
import { esbuildOptionsOf } from '../lib/constructs/mlops-function';

/** Every non-ONNX function must stay under this many bytes of minified JavaScript. */
export const BUNDLE_BUDGET_BYTES = 500 * 1024;
/** Functions whose package is dominated by a native addon shipped beside the bundle. */
const NATIVE_ADDON_FUNCTIONS = new Set<string>();

export interface BundleSize {
  readonly functionDirectory: string;
  readonly bytes: number;
  readonly budgetBytes: number | null;
}

export async function measureBundles(): Promise<BundleSize[]> {
  const lambdasDirectory = path.join(PROJECT_ROOT, 'lambdas');
  const functions = readdirSync(lambdasDirectory, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(path.join(lambdasDirectory, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
  const sizes: BundleSize[] = [];
  for (const functionDirectory of functions) {
    const result = await build({
      entryPoints: [path.join(lambdasDirectory, functionDirectory, 'handler.ts')],
      ...esbuildOptionsOf(),
      write: false,
    });
    const bytes = result.outputFiles.reduce((total, file) => total + file.contents.byteLength, 0);
    sizes.push({ functionDirectory, bytes, budgetBytes: NATIVE_ADDON_FUNCTIONS.has(functionDirectory) ? null : BUNDLE_BUDGET_BYTES });
  }
  return sizes;
}

async function main(): Promise<void> {
  const sizes = await measureBundles();
  if (process.argv.includes('--json')) {
    process.stdout.write(`${JSON.stringify(sizes)}\n`);
  } else {
    for (const { functionDirectory, bytes, budgetBytes } of sizes) {
      const budget = budgetBytes === null ? 'no budget (native addon)' : `budget ${(budgetBytes / 1024).toFixed(0)} KB`;
      process.stdout.write(`${functionDirectory.padEnd(24)} ${(bytes / 1024).toFixed(1).padStart(8)} KB  ${budget}\n`);
    }
  }
  const over = sizes.filter(({ bytes, budgetBytes }) => budgetBytes !== null && bytes > budgetBytes);
  if (over.length > 0) {
    for (const { functionDirectory, bytes, budgetBytes } of over) {
      process.stderr.write(`bundle of lambdas/${functionDirectory} is ${bytes} bytes, over its budget of ${budgetBytes} bytes\n`);
    }
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
