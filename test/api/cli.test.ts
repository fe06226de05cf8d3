/**
 * The `mlops` CLI against the local API server (stub backend): readable output, `--json`,
 * progress state by state, exit codes (0 done, 1 refused, 2 usage, 3 run failed), the API URL
 * from cdk outputs, and the bin shim on a fresh clone (spawned).
 */
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, apiUrlFromStackOutputs } from '../../cli/client';
import { type CliIo, EXIT, run } from '../../cli/mlops';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { startApiServer } from '../../local/api-server';
import { failingRun, StubPlatformBackend } from '../support/stub-platform-backend';

let backend: StubPlatformBackend;
let server: Awaited<ReturnType<typeof startApiServer>>;

beforeAll(async () => {
  backend = new StubPlatformBackend();
  server = await startApiServer(backend, { actor: 'cli-user' });
});
afterAll(() => server.close());

async function mlops(args: string[], files: Record<string, string> = {}, env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const sleeps: number[] = [];
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env,
    readFile: (file) => {
      if (!(file in files)) throw new Error(`ENOENT: no such file, open '${file}'`);
      return files[file]!;
    },
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  };
  const code = await run(args, io);
  return { code, stdout, stderr, sleeps };
}

describe('mlops', () => {
  it('starts a training run and follows it state by state until it succeeds', async () => {
    const result = await mlops([
      '--api',
      server.url,
      'train',
      '--model',
      'churn',
      '--data',
      's3://datasets/churn/train.csv',
      '--hyperparameter',
      'epochs=10',
      '--wait',
      '--interval',
      '2',
    ]);
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^started arn:aws:states:us-east-1:123456789012:execution:mlops-dev-churn:run-\d+$/);
    // Each state once, in order, though three polls saw overlapping histories.
    expect(lines.slice(1, -1).map((line) => line.trim().split(/\s+/)[1])).toEqual([
      'CheckInput',
      'ApplyDefaults',
      'ValidateDataset',
      'TrainOnSpot',
      'PromoteVersion',
    ]);
    expect(lines.at(-1)).toBe('SUCCEEDED at 2026-01-01T00:00:30.000Z');
    expect(result.sleeps).toEqual([2000, 2000]);
    expect(backend.started.at(-1)).toEqual({
      model: 'churn',
      datasetUri: 's3://datasets/churn/train.csv',
      hyperparameters: { epochs: '10' },
    });
  });

  /** `mlops batch --model <model> --input <input> --output <output> [options]` against the test server. */
  const batch = (model: string, input: string, output: string, ...options: string[]) =>
    mlops(['--api', server.url, 'batch', '--model', model, '--input', input, '--output', output, ...options]);

  it('starts a batch scoring run with every option, follows it, and names the manifest', async () => {
    const result = await batch(
      'churn',
      's3://datasets/churn/batch/2026-w01/',
      's3://artifacts/batch/churn/2026-w01/',
      '--version',
      '3',
      '--format',
      'jsonl',
      '--row-id',
      'customer_id',
      '--max-failed-percent',
      '0.5',
      '--wait',
    );
    expect(result.code).toBe(EXIT.ok);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^started arn:aws:states:us-east-1:123456789012:execution:mlops-dev-churn-batch:batch-\d+$/);
    expect(lines.at(-1)).toBe('manifest s3://artifacts/batch/churn/2026-w01/_manifest.json');
    expect(backend.batches.at(-1)).toEqual({
      model: 'churn',
      inputUri: 's3://datasets/churn/batch/2026-w01/',
      outputUri: 's3://artifacts/batch/churn/2026-w01/',
      version: 3,
      format: 'jsonl',
      rowIdColumn: 'customer_id',
      maxFailedPercent: 0.5,
    });
  });

  it('refuses a batch request the API schema refuses, and bad batch usage, before starting anything', async () => {
    const before = backend.batches.length;
    const unknown = await batch('fraud', 's3://datasets/fraud/x.csv', 's3://a/b/');
    expect(unknown.code).toBe(EXIT.failed);
    expect(unknown.stderr).toContain('/model must be equal to one of the allowed values (churn)');
    const noSlash = await batch('churn', 's3://datasets/churn/x.csv', 's3://a/b');
    expect(noSlash).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('--output must be an S3 prefix ending in /') });
    const percent = await batch('churn', 's3://datasets/churn/x.csv', 's3://a/b/', '--max-failed-percent', '101');
    expect(percent).toMatchObject({
      code: EXIT.usage,
      stderr: expect.stringContaining('expected a percentage between 0 and 100, got "101"'),
    });
    const format = await batch('churn', 's3://d/churn/x', 's3://a/b/', '--format', 'xml');
    expect(format.code).toBe(EXIT.usage);
    expect(backend.batches.length).toBe(before);
  });

  it('exits 3 with the error and its reason when the followed run fails, polling every 10 s by default', async () => {
    backend.nextScript = failingRun;
    const result = await mlops(['--api', server.url, 'train', '--model', 'churn', '--data', 's3://datasets/x.csv', '--wait']);
    expect(result.code).toBe(EXIT.pipelineFailed);
    expect(result.sleeps.length).toBeGreaterThan(0);
    expect(new Set(result.sleeps)).toEqual(new Set([10_000]));
    expect(result.stdout).toContain('stopped in: PipelineFailed');
    expect(result.stdout).toContain('reason:     12% of rows break the schema (max 1%)');
  });

  it('exits 0 done, 1 when the API refused or could not be reached, 2 on bad usage, 3 when a followed run failed (api.md)', () => {
    expect(EXIT).toEqual({ ok: 0, failed: 1, usage: 2, pipelineFailed: 3 });
  });

  it('prints the API response as JSON with --json', async () => {
    const started = await mlops(['--api', server.url, '--json', 'train', '--model', 'churn', '--data', 's3://datasets/x.csv']);
    const { executionArn } = JSON.parse(started.stdout);
    const status = await mlops(['--api', server.url, '--json', 'status', executionArn]);
    expect(status.code).toBe(EXIT.ok);
    expect(JSON.parse(status.stdout)).toMatchObject({ executionArn, status: 'RUNNING', currentState: 'CheckInput' });
  });

  it('lists models and versions as tables', async () => {
    await backend.registerVersion('churn', 0.91);
    await backend.registerVersion('churn', 0.93);
    await mlops(['--api', server.url, 'promote', 'churn', '2', '--reason', 'better']);
    const models = await mlops(['--api', server.url, 'models']);
    expect(
      models.stdout
        .split('\n')
        .slice(0, 3)
        .map((line) => line.split(/\s{2,}/).slice(0, 4)),
    ).toEqual([
      ['MODEL', 'LATEST', 'PRODUCTION', 'STAGING'],
      [expect.stringMatching(/^-+$/), expect.stringMatching(/^-+$/), expect.stringMatching(/^-+$/), expect.stringMatching(/^-+$/)],
      ['churn', '2', '2', '-'],
    ]);
    const versions = await mlops(['--api', server.url, 'versions', 'churn']);
    expect(versions.stdout).toMatch(/^2\s+Production\s+\S+\s+accuracy=0\.9300\s+s3:\/\/artifacts\/models\/churn\/model\.tar\.gz$/m);
    const one = await mlops(['--api', server.url, 'models', 'churn']);
    expect(one.stdout).toMatch(/^production:\s+2$/m);
  });

  it('promotes expecting the production version it read (so a promotion in between makes it fail), or over anything with --force', async () => {
    await backend.registerVersion('churn', 0.91);
    await backend.registerVersion('churn', 0.93);
    expect((await mlops(['--api', server.url, 'promote', 'churn', '1'])).code).toBe(EXIT.ok);
    const stale = await mlops(['--api', server.url, 'promote', 'churn', '2', '--expected-production', 'none']);
    expect(stale.code).toBe(EXIT.failed);
    expect(stale.stderr).toMatch(/409 Conflict: production version of "churn" is 1, not none as expected/);
    expect((await mlops(['--api', server.url, 'promote', 'churn', '2'])).code).toBe(EXIT.ok);
    expect((await mlops(['--api', server.url, 'promote', 'churn', '1', '--force'])).code).toBe(EXIT.ok);
    expect((await backend.registryCore.getModel({ modelName: 'churn' })).productionVersion).toBe(1);
  });

  it('prints a version card as Markdown, from the registry evidence, and keeps it in the artifacts bucket', async () => {
    const card = await mlops(['--api', server.url, 'card', 'churn', '2']);
    expect(card.code).toBe(EXIT.ok);
    expect(card.stdout).toContain('# Model card: churn v2');
    expect(card.stdout).toMatch(/\| intended use \| retention offers \|/);
    expect(card.stdout).toMatch(/\| .* \| promote: \S+ → Production \| .* \| better \|/);
    expect(card.stdout).toContain('Holdout rows scored: not recorded');
    expect(card.stdout).toContain('Kept at s3://artifacts/reports/churn/cards/v000002.md');
    expect(backend.cardObjects.has('artifacts/reports/churn/cards/v000002.json')).toBe(true);
    const missing = await mlops(['--api', server.url, 'card', 'churn', '99']);
    expect(missing.code).toBe(1);
  });

  it('reports a refusal with its status, code and message, and exits 1', async () => {
    const result = await mlops(['--api', server.url, 'promote', 'churn', '99']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toMatch(/^mlops: 404 NotFound: .*version 99/);
    const json = await mlops(['--api', server.url, '--json', 'rollback', 'nosuchmodel']);
    expect(json.code).toBe(EXIT.failed);
    expect(JSON.parse(json.stderr)).toMatchObject({ status: 404, error: { code: 'NotFound' } });
  });

  it('approves and rejects waiting versions', async () => {
    const version = await backend.registerVersion();
    await backend.registryCore.requestApproval({
      modelName: 'churn',
      version: version.version,
      taskToken: 't-9',
      executionArn: 'run-9',
      actor: 'p',
    });
    const result = await mlops(['--api', server.url, 'approve', 'churn', String(version.version), '--reject', '--reason', 'drift']);
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout).toBe(`version ${version.version} of churn: rejected; run run-9 resumed\n`);
    expect(backend.answers.at(-1)).toMatchObject({ kind: 'failure', token: 't-9' });
  });

  it('predicts rows read from a JSON Lines file', async () => {
    const result = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'rows.jsonl'], {
      'rows.jsonl': '{"tenure": 30}\n\n{"tenure": 1}\n',
    });
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout.split('\n')).toEqual([
      'churn version 3',
      'ROW  PREDICTION  PROBABILITY',
      '---  ----------  -----------',
      '1    stay        0.8000',
      '2    churn       0.9000',
      '',
    ]);
    const bad = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'bad.jsonl'], {
      'bad.jsonl': '{"tenure": 1}\n{oops\n',
    });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/^mlops: bad\.jsonl line 2 is not JSON/);
  });

  it('exits 2 on bad usage: a missing option, a bad version, no API URL', async () => {
    const missing = await mlops(['--api', server.url, 'train', '--model', 'churn']);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/required option '--data <s3uri>' not specified/);
    expect((await mlops(['--api', server.url, 'promote', 'churn', 'two'])).code).toBe(EXIT.usage);
    const noUrl = await mlops(['models']);
    expect(noUrl).toMatchObject({ code: EXIT.usage, stderr: expect.stringMatching(/no API URL/) });
    expect((await mlops(['--help'])).code).toBe(EXIT.ok);
  });

  it('reads the API URL from cdk outputs or MLOPS_API_URL', async () => {
    const outputs = JSON.stringify({ 'other-stack': { Foo: 'x' }, 'mlops-dev': { ApiUrl: server.url, DashboardName: 'mlops-dev' } });
    const fromFile = await mlops(['--stack-outputs', 'outputs.json', 'models'], { 'outputs.json': outputs });
    expect(fromFile.code).toBe(EXIT.ok);
    expect((await mlops(['models'], {}, { MLOPS_API_URL: server.url })).code).toBe(EXIT.ok);
    expect(() => apiUrlFromStackOutputs({ a: { B: 1 } })).toThrow('no stack with an ApiUrl output in the outputs file (stacks: a)');
  });

  it('signs requests to an AWS URL with SigV4 for execute-api, and leaves local ones unsigned', async () => {
    const seen: Array<{ url: string; headers: Record<string, string> }> = [];
    const fakeFetch = (async (url: URL, init: RequestInit) => {
      seen.push({ url: String(url), headers: init.headers as Record<string, string> });
      return new Response('{"items": []}', { status: 200 });
    }) as unknown as typeof fetch;
    process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'secret';
    try {
      const client = new ApiClient({ baseUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/', fetch: fakeFetch });
      await client.get('pipelines/executions/arn%3Aaws%3Astates');
      expect(seen[0]!.url).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com/v1/pipelines/executions/arn%3Aaws%3Astates');
      expect(seen[0]!.headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=accept;host;x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
      await new ApiClient({ baseUrl: server.url, fetch: fakeFetch }).get('models');
      expect(seen[1]!.headers.authorization).toBeUndefined();
    } finally {
      delete process.env.AWS_ACCESS_KEY_ID;
      delete process.env.AWS_SECRET_ACCESS_KEY;
    }
    expect(() => new ApiClient({ baseUrl: 'http://example.com/v1/' })).toThrow('the API URL must use https unless it is local');
  });

  it('runs as the package bin from the repository (tsx registered by the shim)', async () => {
    await backend.registerVersion();
    const child = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'mlops.mjs'), '--api', server.url, '--json', 'models'], {
      cwd: PROJECT_ROOT,
    });
    let stdout = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    expect(JSON.parse(stdout).items[0].modelName).toBe('churn');
    const failing = spawn(process.execPath, [path.join(PROJECT_ROOT, 'bin', 'mlops.mjs'), '--api', server.url, 'promote', 'churn', '404'], {
      cwd: PROJECT_ROOT,
    });
    expect(await new Promise((resolve) => failing.on('close', resolve))).toBe(EXIT.failed);
  });
});
