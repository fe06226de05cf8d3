/**
 * The layout's one rule, checked on every import: bin → lib → contracts ← lambdas ← local,
 * cli → contracts, containers → lambdas/shared and contracts. contracts/ imports no CDK and no
 * AWS SDK; lambdas/ never imports lib/; function folders never import each other (shared code
 * lives in lambdas/shared/, which imports no function folder) and containers import none; the
 * offline runtime and the containers never load aws-cdk-lib; benches never import test/.
 * In lambdas/, the AWS SDK is imported only by handlers and adapters (`<service>-<port>.ts`).
 */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../contracts/project-root';

const SOURCE_ROOTS = ['bin', 'lib', 'contracts', 'lambdas', 'containers', 'local', 'cli', 'bench', 'scripts', 'testkit', 'test'];

/** Where each top-level folder may import from (its own folder always). */
const ALLOWED_LAYERS: Readonly<Record<string, readonly string[]>> = {
  bin: ['lib', 'contracts'],
  lib: ['contracts'],
  contracts: [],
  lambdas: ['contracts'],
  /** The serving container runs the serving core of lambdas/shared (a function folder never: see below). */
  containers: ['lambdas', 'contracts'],
  local: ['lambdas', 'contracts'],
  cli: ['contracts'],
  bench: ['lambdas', 'contracts', 'local', 'testkit', 'lib'],
  scripts: ['lib', 'lambdas', 'contracts', 'local'],
  testkit: ['lambdas', 'contracts', 'local'],
  test: SOURCE_ROOTS,
};

/** Packages a layer must not load; a package name matches itself and its subpaths. */
const FORBIDDEN_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  contracts: ['aws-cdk-lib', 'constructs', '@aws-sdk', '@smithy', '@aws-lambda-powertools', 'cdk-nag'],
  lambdas: ['aws-cdk-lib', 'constructs', 'cdk-nag'],
  // SageMaker puts the model on disk and runs the container with network isolation: no AWS API to call.
  containers: ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-sdk', '@smithy', '@aws-lambda-powertools'],
  local: ['aws-cdk-lib', 'constructs', 'cdk-nag'],
  cli: ['aws-cdk-lib', 'constructs'],
};

/** lambdas/ files allowed to import @aws-sdk: each function's handler and the adapters named after their service. */
const SDK_FILE = /(^|\/)(handler|(s3|dynamodb|lambda|sagemaker|cloudwatch|sfn|eventbridge)-[a-z-]+)\.ts$/;

interface Import {
  readonly file: string;
  readonly specifier: string;
  /** Repository-relative path of a relative import's target, without extension. */
  readonly target?: string;
}

function sourceFiles(directory: string): string[] {
  const absolute = path.join(PROJECT_ROOT, directory);
  return readdirSync(absolute, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith('.d.ts'))
    .map((entry) => path.relative(PROJECT_ROOT, path.join(entry.parentPath, entry.name)));
}

function importsOf(file: string): Import[] {
  const info = ts.preProcessFile(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'), true, true);
  return info.importedFiles.map(({ fileName: specifier }) => ({
    file,
    specifier,
    ...(specifier.startsWith('.') ? { target: path.normalize(path.join(path.dirname(file), specifier)) } : {}),
  }));
}

const imports = SOURCE_ROOTS.flatMap(sourceFiles).flatMap(importsOf);
const layerOf = (file: string) => file.split(path.sep)[0]!;
/** `lambdas/<folder>` for a file in a function folder or lambdas/shared. */
const lambdaFolderOf = (file: string) => file.split(path.sep).slice(0, 2).join('/');
const describeImport = ({ file, specifier }: Import) => `${file} imports ${specifier}`;

describe('the import direction', () => {
  it('reads the imports of every source folder', () => {
    expect(imports.filter((entry) => layerOf(entry.file) === 'lambdas').length).toBeGreaterThan(100);
    expect(imports.filter((entry) => layerOf(entry.file) === 'contracts').length).toBeGreaterThan(5);
    expect(imports.filter((entry) => layerOf(entry.file) === 'containers').length).toBeGreaterThan(5);
  });

  it('lets each folder import only the layers below it', () => {
    const violations = imports.filter(({ file, target }) => {
      if (!target) return false;
      const from = layerOf(file);
      const to = layerOf(target);
      return from !== to && !ALLOWED_LAYERS[from]!.includes(to);
    });
    expect(violations.map(describeImport)).toEqual([]);
  });

  it('keeps aws-cdk-lib out of the runtime and the containers, and both the CDK and the AWS SDK out of contracts/', () => {
    const violations = imports.filter(({ file, specifier }) =>
      (FORBIDDEN_PACKAGES[layerOf(file)] ?? []).some((name) => specifier === name || specifier.startsWith(`${name}/`)),
    );
    expect(violations.map(describeImport)).toEqual([]);
  });

  it('lets function folders import only lambdas/shared and contracts, and lambdas/shared no function folder', () => {
    const violations = imports.filter(({ file, target }) => {
      if (!target || layerOf(file) !== 'lambdas' || layerOf(target) !== 'lambdas') return false;
      const from = lambdaFolderOf(file);
      const to = lambdaFolderOf(target);
      return from !== to && to !== 'lambdas/shared';
    });
    expect(violations.map(describeImport)).toEqual([]);
  });

  it('lets containers import only lambdas/shared of the runtime, never a function folder', () => {
    const violations = imports.filter(
      ({ file, target }) =>
        target !== undefined &&
        layerOf(file) === 'containers' &&
        layerOf(target) === 'lambdas' &&
        lambdaFolderOf(target) !== 'lambdas/shared',
    );
    expect(violations.map(describeImport)).toEqual([]);
  });

  it('imports the AWS SDK in lambdas/ only from handlers and service adapters', () => {
    const violations = imports.filter(
      ({ file, specifier }) => layerOf(file) === 'lambdas' && specifier.startsWith('@aws-sdk/') && !SDK_FILE.test(file),
    );
    expect(violations.map(describeImport)).toEqual([]);
  });

  it('names each function folder’s pure core after the folder, beside its handler', () => {
    const functionFolders = readdirSync(path.join(PROJECT_ROOT, 'lambdas')).filter((name) => name !== 'shared');
    const missing = functionFolders.filter((name) => {
      const files = readdirSync(path.join(PROJECT_ROOT, 'lambdas', name));
      return !files.includes('handler.ts') || !files.includes(`${name}.ts`);
    });
    expect(missing).toEqual([]);
  });
});
