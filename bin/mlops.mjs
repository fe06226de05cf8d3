#!/usr/bin/env node
// The `mlops` command (package.json "bin"): registers tsx so the TypeScript CLI runs from a fresh clone after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { run } = await import('../cli/mlops.ts');
process.exitCode = await run(process.argv.slice(2));
