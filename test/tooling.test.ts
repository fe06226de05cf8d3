/**
 * One Node.js requirement, stated everywhere, that every locked package accepts (so `npm ci`
 * prints no EBADENGINE), and no npm configuration key npm does not define (onnxruntime-node's
 * CUDA download is denied through package.json's allowScripts instead).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../contracts/project-root';

interface PackageJson {
  engines: { node: string; npm: string };
  allowScripts?: Record<string, boolean>;
}
interface LockFile {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
}

const read = (file: string) => readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
const packageJson = JSON.parse(read('package.json')) as PackageJson;
const lock = JSON.parse(read('package-lock.json')) as LockFile;

describe('the Node.js requirement', () => {
  it('is one that every locked package accepts, so npm ci warns of no unsupported engine', () => {
    const refusing = Object.entries(lock.packages)
      .filter(([location]) => location !== '')
      .map(([location, entry]) => [location, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
      .filter((entry): entry is readonly [string, string] => entry[1] !== undefined)
      .filter(([, range]) => !semver.subset(packageJson.engines.node, range))
      .map(([location, range]) => `${location.replace(/^.*node_modules\//, '')} wants ${range}`);
    expect(refusing).toEqual([]);
  });

  it('is the same in package.json, package-lock.json, the README and the development guide', () => {
    expect(lock.packages['']!.engines).toEqual(packageJson.engines);
    for (const document of ['README.md', 'docs/development.md']) {
      expect(read(document), document).toContain(`\`${packageJson.engines.node}\``);
      expect(read(document), document).not.toMatch(/Node(\.js)? ≥ 20/);
    }
    expect(existsSync(path.join(PROJECT_ROOT, '.nvmrc'))).toBe(false);
  });
});

describe('npm configuration', () => {
  it('sets no project configuration key that npm does not define', () => {
    const npm = spawnSync('npm', ['config', 'get', 'registry'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(npm.status).toBe(0);
    expect(npm.stderr).not.toMatch(/Unknown project config/);
  });

  it("skips onnxruntime-node's CUDA download through allowScripts, which npm honours from the required version on", () => {
    expect(packageJson.allowScripts?.['onnxruntime-node']).toBe(false);
    // npm 11.16 is the first to read allowScripts: a package denied with false never runs its install script.
    expect(semver.gte(semver.minVersion(packageJson.engines.npm)!.version, '11.16.0')).toBe(true);
  });
});
