#!/usr/bin/env node
// The `mlops` command (package.json "bin"). In a clone it registers tsx and runs the TypeScript
// sources; installed from the package (which ships no cli/*.ts) it runs the compiled CLI in
// dist/cli/, built by `npm pack`.
import { existsSync } from 'node:fs';

const sources = new URL('../cli/mlops.ts', import.meta.url);
let run;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ run } = await import(sources.href));
} else {
  ({ run } = await import(new URL('../dist/cli/mlops.js', import.meta.url).href));
}
process.exitCode = await run(process.argv.slice(2));
