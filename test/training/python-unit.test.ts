/**
 * The training program's own unit tests (training/tests, Python unittest: channels, encoding,
 * checkpoints and resume, SIGTERM, ONNX export, metrics lines) run as part of `npm test`, under
 * the same Python the offline training job uses.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython } from '../../local/sagemaker-training';

const TRAINING = path.resolve(__dirname, '../../training');

describe('training/tests (Python unittest)', () => {
  it('passes, and runs every test module it finds', () => {
    const result = spawnSync(findPython(), ['-m', 'unittest', 'discover', '-s', 'tests', '-v'], {
      cwd: TRAINING,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const output = `${result.stdout}${result.stderr}`;
    expect(result.status, output.slice(-4000)).toBe(0);
    const ran = /^Ran (\d+) tests? in/m.exec(output);
    expect(Number(ran?.[1])).toBeGreaterThanOrEqual(50);
    expect(output).toMatch(/^OK/m);
  }, 150_000);
});
