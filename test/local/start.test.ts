/**
 * `npm start` as a user runs it, in child processes (local/start.ts under Node with tsx, as the
 * npm script runs it): the help, one-line errors, a workspace that outlasts the process, and a
 * clean stop on SIGTERM, SIGINT and SIGHUP — no DynamoDB Local JVM, training program or temporary
 * folder left behind.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { generateChurn, toCsv } from '../../local/sample-data';

const root = mkdtempSync(path.join(tmpdir(), 'npm-start-test-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Started {
  readonly child: ChildProcess;
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Resolves with the stdout so far once it matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs local/start.ts; with its own TMPDIR (`temporary`) the test sees every temporary folder it
 * makes (without, it shares the run's, and tsx's warm compile cache in it).
 */
function start(args: readonly string[], temporary?: string, env: NodeJS.ProcessEnv = {}): Started {
  if (temporary) mkdirSync(temporary, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'local', 'start.ts'), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, ...(temporary ? { TMPDIR: temporary } : {}), INIT_CWD: PROJECT_ROOT, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: (() => void)[] = [];
  child.stdout!.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    for (const waiter of waiters) waiter();
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern, timeoutMs = 90_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}:\n${stdout}\n${stderr}`)), timeoutMs);
        const check = () => {
          if (pattern.test(stdout)) {
            clearTimeout(timer);
            resolve(stdout);
          }
        };
        waiters.push(check);
        void exited.then(() => {
          if (!pattern.test(stdout)) {
            clearTimeout(timer);
            reject(new Error(`exited before ${pattern}:\n${stdout}\n${stderr}`));
          }
        });
        check();
      }),
  };
}

/** Process ids whose command line contains `text` (Linux /proc). */
function processesWith(text: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** What is left in a TMPDIR, but for third-party caches that outlive every process by design. */
function leftIn(temporary: string): string[] {
  return readdirSync(temporary).filter(
    // tsx's compile cache; onnxruntime-node's telemetry session file and its per-process debug log.
    (entry) => !/^tsx-\d+$/.test(entry) && entry !== '.ses' && !/^mat-debug-\d+\.log$/.test(entry),
  );
}

async function run(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  const started = start(args, undefined, env);
  const { code } = await started.exited;
  return { code, stdout: started.stdout(), stderr: started.stderr() };
}

describe('npm start -- --help', () => {
  it('explains every flag', async () => {
    const { code, stdout } = await run(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--scenario',
      '--data',
      '--delimiter',
      '--model',
      '--workspace',
      '--fresh',
      '--keep-running',
      '--config',
      '--no-synth',
      '--help',
    ]) {
      expect(stdout).toMatch(new RegExp(`^ {2}(-h, )?${flag}\\b.*\\S`, 'm'));
    }
    for (const scenario of ['demo', 'train', 'serve', 'drift']) expect(stdout).toMatch(new RegExp(`^ +${scenario} +\\S`, 'm'));
  });
});

// Independent processes: run side by side.
describe.concurrent('npm start errors a user can cause', () => {
  const truncated = path.join(root, 'truncated-cdk.json');
  writeFileSync(truncated, readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8').slice(0, 300));
  const noJava = path.join(root, 'empty-bin');
  mkdirSync(noJava, { recursive: true });

  it.each([
    ['a missing --data file', ['--data', '/nowhere/missing.csv'], {}, 2, 'npm start: --data /nowhere/missing.csv: no such file'],
    ['a folder as --data', ['--data', root], {}, 2, `npm start: --data ${root}: is a folder; give one dataset file`],
    ['a truncated cdk.json', ['--config', truncated, '--no-synth'], {}, 1, `npm start: ${truncated}: not valid JSON (`],
    ['a missing cdk.json', ['--config', path.join(root, 'none.json')], {}, 1, `npm start: ${path.join(root, 'none.json')}: no such file`],
    [
      'no Java on PATH',
      ['--no-synth', '--workspace', path.join(root, 'ws-no-java')],
      { PATH: noJava },
      1,
      'npm start: DynamoDB Local needs Java 17',
    ],
    ['an unknown flag', ['--bogus'], {}, 2, "npm start: Unknown option '--bogus'"],
    [
      'a delimiter of two characters',
      ['--data', truncated, '--delimiter', ';;'],
      {},
      2,
      'npm start: --delimiter ";;": must be one character',
    ],
  ])('answers %s with one line and a non-zero exit, no stack trace', async (_case, args, env, exitCode, line) => {
    const { code, stderr } = await run(args, env);
    expect(code).toBe(exitCode);
    expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
    expect(stderr.startsWith(line), stderr).toBe(true);
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('refuses a folder that is not a workspace rather than clearing it', async () => {
    const foreign = path.join(root, 'foreign');
    mkdirSync(foreign, { recursive: true });
    writeFileSync(path.join(foreign, 'thesis.tex'), 'precious');
    const { code, stderr } = await run(['--no-synth', '--workspace', foreign, '--fresh']);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      `npm start: --workspace ${foreign}: the folder has files but is not an mlops workspace (no workspace.json); name a new or empty folder`,
    );
    expect(readFileSync(path.join(foreign, 'thesis.tex'), 'utf8')).toBe('precious');
  });
});

describe('npm start in a workspace that lasts', () => {
  const workspace = path.join(root, 'workspace');
  const data = path.join(root, 'churn-semicolons.csv');
  writeFileSync(data, toCsv(generateChurn({ rows: 3000, seed: 21 })).replaceAll(',', ';'));

  it('trains on --data with its delimiter and keeps the registry, the run report and the validation report', async () => {
    const temporary = path.join(root, 'tmp-train');
    const train = start(['--no-synth', '--workspace', workspace, '--data', data, '--delimiter', ';'], temporary);
    const { code } = await train.exited;
    expect(code, `${train.stdout()}\n${train.stderr()}`).toBe(0);
    expect(train.stdout()).toMatch(/dataset: 3,000 rows validated in [\d.]+ s \([\d,]+ rows\/s\)/);
    expect(train.stdout()).toMatch(/epoch 1: train loss \d\.\d{4}, validation loss \d\.\d{4}/);
    const runs = JSON.parse(readFileSync(path.join(workspace, 'runs', 'index.json'), 'utf8'));
    expect(runs).toEqual([expect.objectContaining({ scenario: 'train', model: 'churn', outcome: 'succeeded' })]);
    const runFolder = path.join(workspace, 'runs', runs[0].id);
    expect(readFileSync(path.join(runFolder, 'index.html'), 'utf8')).toContain('cdk-mlops offline run: train');
    expect(readFileSync(path.join(workspace, 'runs', 'index.html'), 'utf8')).toContain(`${runs[0].id}/index.html`);
    const [execution] = readdirSync(path.join(runFolder, 'executions'));
    expect(execution).toMatch(/^train-\d{8}-\d{6}$/);
    expect(
      JSON.parse(readFileSync(path.join(runFolder, 'executions', execution!, 'reports', 'validation-report.json'), 'utf8')),
    ).toMatchObject({
      valid: true,
      rowCount: 3000,
    });
    expect(train.stdout()).toContain(`Report: ${path.join(runFolder, 'index.html')}`);
    expect(leftIn(temporary)).toEqual([]);
  }, 120_000);

  it('serves what the last run kept with --keep-running, and stops the API, the JVM and the temporary folders on SIGTERM', async () => {
    const temporary = path.join(root, 'tmp-serve');
    const serve = start(['--no-synth', '--workspace', workspace, '--scenario', 'serve'], temporary);
    const output = await serve.waitFor(/Press Ctrl\+C/);
    expect(output).toContain('1 version(s) in the registry');
    const url = /Local API \(.*\): (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
    const models = await (await fetch(`${url}models/churn`)).json();
    expect(models).toMatchObject({ modelName: 'churn', productionVersion: 1 });
    const registry = path.join(workspace, 'registry');
    expect(processesWith(registry)).toHaveLength(1);

    serve.child.kill('SIGTERM');
    expect(await serve.exited).toEqual({ code: 0, signal: null });
    expect(processesWith(registry)).toEqual([]);
    await expect(fetch(`${url}models`)).rejects.toThrow();
    expect(leftIn(temporary)).toEqual([]);
  }, 120_000);

  it('refuses to replay the demo over the registry the workspace kept', async () => {
    const { code, stderr } = await run(['--no-synth', '--workspace', workspace]);
    expect(code).toBe(2);
    expect(stderr.trim()).toBe(
      `npm start: the demo tells its story from an empty registry, and ${workspace} holds churn v1–v1: add --fresh to start it over, or --workspace <dir> for another`,
    );
    expect(processesWith(path.join(workspace, 'registry'))).toEqual([]);
  }, 60_000);
});

describe.concurrent('npm start stopped by a signal mid-work', () => {
  it('SIGINT during training: the training program, the JVM and the job folder are gone, exit 130', async () => {
    const temporary = path.join(root, 'tmp-sigint');
    const workspace = path.join(root, 'ws-sigint');
    const train = start(['--no-synth', '--workspace', workspace, '--scenario', 'train'], temporary);
    await train.waitFor(/epoch 1: /);
    const trainers = processesWith(path.join(temporary, 'mlops-job-'));
    expect(trainers.length).toBeGreaterThan(0);

    train.child.kill('SIGINT');
    expect(await train.exited).toEqual({ code: 130, signal: null });
    expect(train.stderr()).toContain('SIGINT: stopping the offline runtime');
    expect(processesWith(path.join(temporary, 'mlops-job-'))).toEqual([]);
    expect(processesWith(path.join(workspace, 'registry'))).toEqual([]);
    expect(leftIn(temporary)).toEqual([]);
    // The interrupted execution is kept as ABORTED, so its name is never reused.
    const [execution] = JSON.parse(readFileSync(path.join(workspace, 'executions.json'), 'utf8'));
    expect(execution).toMatchObject({ status: 'ABORTED', error: 'LocalRuntimeStopped' });
  }, 120_000);

  it('SIGHUP while DynamoDB Local starts: the JVM it was starting is stopped too, exit 129', async () => {
    const temporary = path.join(root, 'tmp-sighup');
    const workspace = path.join(root, 'ws-sighup');
    const serve = start(['--no-synth', '--workspace', workspace, '--scenario', 'serve'], temporary);
    await serve.waitFor(/== Offline runtime/);
    serve.child.kill('SIGHUP');
    expect(await serve.exited).toEqual({ code: 129, signal: null });
    expect(processesWith(path.join(workspace, 'registry'))).toEqual([]);
    expect(existsSync(path.join(workspace, 'workspace.json'))).toBe(true);
    expect(leftIn(temporary)).toEqual([]);
  }, 60_000);
});
