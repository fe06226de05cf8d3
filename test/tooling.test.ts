/**
 * One Node.js requirement, stated everywhere, that every locked package accepts (so `npm ci` on a
 * supported Node prints no EBADENGINE), and the one npm key the install needs offline:
 * onnxruntime-node's CUDA download skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../contracts/project-root';

interface PackageJson {
  engines: { node: string };
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
  it("skips onnxruntime-node's CUDA download (on linux/x64 its install script fetches CUDA 12 from NuGet, outside the registry)", () => {
    expect(read('.npmrc')).toMatch(/^onnxruntime-node-install=skip$/m);
    // The package's script reads the key as npm passes it, or the variable .ci/run sets.
    const installUtils = read('node_modules/onnxruntime-node/script/install-utils.js');
    expect(installUtils).toContain('process.env.npm_config_onnxruntime_node_install');
    expect(read('.ci/run')).toMatch(/ONNXRUNTIME_NODE_INSTALL=skip npm ci/);
  });
});
