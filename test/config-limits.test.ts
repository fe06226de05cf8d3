/**
 * The configuration limits docs/configuration.md states, each accepted at its value and refused one
 * past it: projectName at most 24 characters, a model name at most 48, drift.windowHours 1 to 336.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type PlatformConfigInput, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';

const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops as PlatformConfigInput;

/** The issues parseConfig names for the shipped config with one change, [] when it accepts it. */
function issuesWith(change: (config: Record<string, any>) => void): string[] {
  const config = structuredClone(shipped) as Record<string, any>;
  change(config);
  try {
    parseConfig(config);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

const name = (length: number) => `a${'b'.repeat(length - 1)}`;

describe('configuration limits, at the values docs/configuration.md states', () => {
  const projectName = (value: string) =>
    issuesWith((c) => {
      c.projectName = value;
    });
  const modelName = (value: string) =>
    issuesWith((c) => {
      c.models[0].name = value;
    });
  const windowHours = (hours: number) =>
    issuesWith((c) => {
      c.drift = { ...c.drift, windowHours: hours };
    });

  it('projectName: at most 24 characters', () => {
    expect(projectName(name(24))).toEqual([]);
    expect(projectName(name(25))).toEqual([expect.stringMatching(/^mlops\.projectName: .*24/)]);
  });

  it('models[].name: at most 48 characters', () => {
    expect(modelName(name(48))).toEqual([]);
    expect(modelName(name(49))).toEqual([expect.stringMatching(/^mlops\.models\[0\]\.name: .*48/)]);
  });

  it('drift.windowHours: 1 to 336', () => {
    for (const hours of [1, 336]) expect(windowHours(hours), String(hours)).toEqual([]);
    expect(windowHours(0)).toEqual([expect.stringMatching(/^mlops\.drift\.windowHours: .*1/)]);
    expect(windowHours(337)).toEqual([expect.stringMatching(/^mlops\.drift\.windowHours: .*336/)]);
  });
});
