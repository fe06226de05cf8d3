/**
 * The `mlops` CLI with the inputs a new user tries: no command, an unknown command or flag, a
 * piped file over 64 KB, 25,000 rows to score, rows too large for one request, an API that is not
 * there, a local dataset path, a model name that does not exist, and a long run followed with
 * `--wait` that fails. Against the local API server over the stub backend.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import * as path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliIo, EXIT, PROGRESS_INTERVAL_MS, run } from '../../cli/mlops';
import { batchEnd, escapedBytes, predictInBatches } from '../../cli/predict-batches';
import type { ExecutionStatus } from '../../contracts/api';
import { MAX_PREDICT_BODY_BYTES, MAX_ROWS_PER_REQUEST } from '../../contracts/limits';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { type LocalPlatformBackend, startApiServer } from '../../local/api-server';
import { StubPlatformBackend } from '../support/stub-platform-backend';

let backend: StubPlatformBackend;
let server: Awaited<ReturnType<typeof startApiServer>>;

beforeAll(async () => {
  server = await startApiServer(
    new Proxy({} as LocalPlatformBackend, {
      // Each test gets a fresh backend behind the same server.
      get: (_, name) => {
        const value = (backend as unknown as Record<string | symbol, unknown>)[name];
        return typeof value === 'function' ? value.bind(backend) : value;
      },
    }),
    { actor: 'new-user' },
  );
});
afterAll(() => server.close());
beforeEach(() => {
  backend = new StubPlatformBackend();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function mlops(args: string[], files: Record<string, string> = {}, extra: Partial<CliIo> = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    env: {},
    readFile: (file) => {
      if (!(file in files)) throw new Error(`ENOENT: no such file or directory, open '${file}'`);
      return files[file]!;
    },
    sleep: async () => {},
    ...extra,
  };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

const rowsText = (tenures: readonly unknown[]) => `${tenures.map((tenure) => JSON.stringify({ tenure })).join('\n')}\n`;

describe('mlops usage', () => {
  it('prints the usage and exits 2 when run without arguments', async () => {
    const result = await mlops([]);
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toMatch(/^Usage: mlops \[options\] \[command\]/);
    expect(result.stderr).toContain('predict [options]');
    expect(result.stdout).toBe('');
  });

  it('exits 2 with the usage for an unknown command or flag, and 0 when help is asked for', async () => {
    const command = await mlops(['--api', server.url, 'trian']);
    expect(command.code).toBe(EXIT.usage);
    expect(command.stderr).toMatch(/unknown command 'trian'[\s\S]*Usage: mlops/);
    const flag = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'rows.jsonl', '--rows', 'x']);
    expect(flag.code).toBe(EXIT.usage);
    expect(flag.stderr).toMatch(/unknown option '--rows'[\s\S]*Usage: mlops predict/);
    expect((await mlops(['--help'])).code).toBe(EXIT.ok);
    expect((await mlops(['help', 'train'])).code).toBe(EXIT.ok);
  });
});

describe('mlops predict', () => {
  it('reads a piped file over 64 KB to its end (standard input as a stream, not readFileSync(0))', async () => {
    await backend.registerVersion();
    const rows = 6000;
    const producer = `for (let i = 0; i < ${rows}; i++) process.stdout.write(JSON.stringify({ tenure: i % 100, note: 'x'.repeat(10) }) + '\\n')`;
    const mlopsBin = path.join(PROJECT_ROOT, 'bin', 'mlops.mjs');
    // A shell pipe, as `cat rows.jsonl | npx mlops predict --file -` makes it.
    const command = `"${process.execPath}" -e "${producer.replaceAll('"', '\\"')}" | "${process.execPath}" "${mlopsBin}" --api ${server.url} --json predict --model churn --file -`;
    const child = spawn('sh', ['-c', command], { cwd: PROJECT_ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, stderr).toBe(0);
    expect(JSON.parse(stdout).predictions).toHaveLength(rows);
    expect(backend.predictRequests.reduce((total, count) => total + count, 0)).toBe(rows);
  });

  it('sends 25,000 rows in requests within the row limit, with progress on stderr, and answers them in file order', async () => {
    const tenures = Array.from({ length: 25_000 }, (_, index) => (index % 7 === 0 ? 1 : 40));
    const result = await mlops(['--api', server.url, '--json', 'predict', '--model', 'churn', '--file', 'rows.jsonl'], {
      'rows.jsonl': rowsText(tenures),
    });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(backend.predictRequests).toEqual([1000, 10_000, 10_000, 4000]);
    expect(result.stderr.trim().split('\n')).toEqual([
      'predict: 1000 of 25000 rows scored (1 request)',
      'predict: 11000 of 25000 rows scored (2 requests)',
      'predict: 21000 of 25000 rows scored (3 requests)',
      'predict: 25000 of 25000 rows scored (4 requests)',
    ]);
    const answer = JSON.parse(result.stdout);
    expect(answer.predictions.map((prediction: { label: string }) => prediction.label)).toEqual(
      tenures.map((tenure) => (tenure > 12 ? 'stay' : 'churn')),
    );
    expect(answer.requests.map((request: { firstLine: number }) => request.firstLine)).toEqual([1, 1001, 11_001, 21_001]);
  });

  it('splits rows whose body would not fit a synchronous invocation, though under the row limit', async () => {
    // 9,000 rows of about 1.1 KB: 10 MB in one body, so at least two requests.
    const tenures = Array.from({ length: 9000 }, () => 30);
    const text = tenures.map((tenure) => JSON.stringify({ tenure, note: 'n'.repeat(1100) })).join('\n');
    const result = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'wide.jsonl'], { 'wide.jsonl': text });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(backend.predictRequests.length).toBeGreaterThan(2);
    expect(backend.predictRequests.reduce((total, count) => total + count, 0)).toBe(9000);
    expect(result.stdout.split('\n').filter((line) => /^\d+\s+stay/.test(line))).toHaveLength(9000);
  });

  it('names the file line of a refused row, and what was scored before it', async () => {
    const tenures: unknown[] = Array.from({ length: 3000 }, () => 30);
    tenures[2499] = 'long';
    const result = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'rows.jsonl'], {
      'rows.jsonl': `\n${rowsText(tenures)}`,
    });
    expect(result.code).toBe(EXIT.failed);
    // Line 2501: the file starts with a blank line.
    expect(result.stderr).toMatch(
      /^mlops: 400 ValidationFailed: line 2501, tenure: must be a number, got "long" \(request 2: lines 1002–3001\); the 1000 rows before it were scored and are not printed$/m,
    );
    expect(result.stderr.split('\n')[0]).toBe('predict: 1000 of 3000 rows scored (1 request)');
  });

  it('marks the rows outside the training range and sums them up, without refusing them', async () => {
    const result = await mlops(['--api', server.url, 'predict', '--model', 'churn', '--file', 'rows.jsonl'], {
      'rows.jsonl': rowsText([30, -50, 1000, 5]),
    });
    expect(result.code).toBe(EXIT.ok);
    expect(result.stdout.split('\n')).toEqual([
      'churn version 3',
      'ROW  PREDICTION  PROBABILITY  OUTSIDE TRAINING RANGE',
      '---  ----------  -----------  ----------------------',
      '1    stay        0.8000       -',
      '2    churn       0.9000       tenure',
      '3    stay        0.8000       tenure',
      '4    churn       0.9000       -',
      '',
      '2 of 4 rows have inputs outside what the model was trained on: tenure (2); their predictions are extrapolations',
      '',
    ]);
  });

  it('lists the models there are when the model is unknown', async () => {
    await backend.registerVersion('churn');
    await mlops(['--api', server.url, 'promote', 'churn', '1']);
    const result = await mlops(['--api', server.url, 'predict', '--model', 'nosuch', '--file', 'rows.jsonl'], {
      'rows.jsonl': rowsText([1]),
    });
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toBe(
      'mlops: 404 NotFound: the platform serves no model of that name\n  models in the registry: churn (production v1)\n',
    );
    const empty = new StubPlatformBackend();
    backend = empty;
    const none = await mlops(['--api', server.url, 'train', '--model', 'nosuch', '--data', 's3://datasets/x.csv']);
    expect(none.code).toBe(EXIT.failed);
    expect(none.stderr).toContain('/model must be equal to one of the allowed values (churn)');
    expect(none.stderr).toContain('\n  the registry holds no models yet: train one first');
  });
});

describe('predict batches', () => {
  it('cover the rows in order, each within the row and byte limits, as large as they can be', () => {
    fc.assert(
      fc.property(
        // size 'max': fast-check 4 otherwise caps an array at 10 rows, under most row limits.
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 300, size: 'max' }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 520, max: 5000 }),
        (sizes, maxRows, maxBytes) => {
          const frame = escapedBytes('{"instances":[]}');
          let start = 0;
          while (start < sizes.length) {
            const end = batchEnd(sizes, start, maxRows, maxBytes);
            const bytes = frame + sizes.slice(start, end).reduce((total, size) => total + size, 0) + (end - start - 1);
            expect(end).toBeGreaterThan(start);
            expect(end - start).toBeLessThanOrEqual(maxRows);
            expect(bytes).toBeLessThanOrEqual(maxBytes);
            // Maximal: one more row would break a limit.
            if (end < sizes.length) expect(end - start === maxRows || bytes + 1 + sizes[end]! > maxBytes).toBe(true);
            start = end;
          }
        },
      ),
    );
  });

  it("measure a body as a proxy event carries it (escaped), and size later requests by the first one's answers", async () => {
    const bodies: string[] = [];
    const rows = Array.from({ length: 5000 }, (_, index) => ({ value: { text: '"quoted"' }, line: index + 1 }));
    await predictInBatches(
      async (bodyText) => {
        bodies.push(bodyText);
        const count = (JSON.parse(bodyText) as { instances: unknown[] }).instances.length;
        // Answers of 2,000 bytes per row: 1,000-row answers would be 2 MB, so later requests shrink.
        const value = { modelName: 'm', modelVersion: 1, predictions: Array.from({ length: count }, () => ({ value: 1 })) };
        return { value, text: JSON.stringify(value).padEnd(count * 2000) };
      },
      rows,
      undefined,
      { maxRows: MAX_ROWS_PER_REQUEST, maxBodyBytes: 1_000_000, firstRequestRows: 1000 },
    );
    expect(bodies.map((body) => escapedBytes(body)).every((bytes) => bytes <= 1_000_000)).toBe(true);
    const counts = bodies.map((body) => (JSON.parse(body) as { instances: unknown[] }).instances.length);
    expect(counts[0]).toBe(1000);
    // 1,000,000 / (2,000 × 1.25) rows, less the few the escaped answer adds over 2,000 bytes a row.
    expect(Math.max(...counts.slice(1))).toBeGreaterThan(390);
    expect(Math.max(...counts.slice(1))).toBeLessThanOrEqual(400);
    expect(counts.reduce((total, count) => total + count, 0)).toBe(5000);
    expect(MAX_PREDICT_BODY_BYTES).toBe(6 * 1024 * 1024 - 64 * 1024);
  });
});

describe('mlops train', () => {
  it('uploads a local dataset file to the offline runtime and trains on its s3:// URI', async () => {
    const result = await mlops(['--api', server.url, 'train', '--model', 'churn', '--data', './my data/rows.csv'], {
      './my data/rows.csv': 'tenure,churned\n3,1\n',
    });
    expect(result.code, result.stderr).toBe(EXIT.ok);
    expect(backend.uploads).toEqual([{ model: 'churn', fileName: 'rows.csv', text: 'tenure,churned\n3,1\n' }]);
    expect(result.stderr).toBe('uploaded ./my data/rows.csv (19 bytes) to s3://local-datasets/churn/uploads/1/rows.csv\n');
    expect(backend.started).toEqual([{ model: 'churn', datasetUri: 's3://local-datasets/churn/uploads/1/rows.csv' }]);
    const spaced = await mlops(['--api', server.url, 'train', '--model', 'churn', '--data', 'nov 2026 (v2).csv'], {
      'nov 2026 (v2).csv': 'a\n1\n',
    });
    expect(spaced.code).toBe(EXIT.ok);
    expect(backend.uploads.at(-1)!.fileName).toBe('nov-2026--v2-.csv');
    const unknown = await mlops(['--api', server.url, 'train', '--model', 'nosuch', '--data', 'rows.csv'], { 'rows.csv': 'a\n1\n' });
    expect(unknown.code).toBe(EXIT.failed);
    expect(unknown.stderr).toMatch(
      /^mlops: 404 NotFound: no training pipeline is deployed for the requested model\n[\s\S]*the registry holds no models yet/,
    );
  });

  it('refuses a local path for a deployed API with the commands that upload it, naming the datasets bucket', async () => {
    const outputs = JSON.stringify({
      'mlops-dev': { ApiUrl: 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/', DatasetsBucketName: 'mlops-dev-datasets-1a2b' },
    });
    const requests: string[] = [];
    const result = await mlops(
      ['--stack-outputs', 'out.json', 'train', '--model', 'churn', '--data', './x.csv'],
      { 'out.json': outputs, './x.csv': 'a\n1\n' },
      {
        fetch: (async (url: URL) => {
          requests.push(String(url));
          return new Response('{}');
        }) as unknown as typeof fetch,
      },
    );
    expect(result.code).toBe(EXIT.usage);
    expect(result.stderr).toBe(
      [
        'mlops: --data ./x.csv is a local path; the pipeline reads its data from S3. Upload it and pass its URI:',
        '  aws s3 cp ./x.csv s3://mlops-dev-datasets-1a2b/churn/x.csv',
        '  mlops train --model churn --data s3://mlops-dev-datasets-1a2b/churn/x.csv …',
        '',
      ].join('\n'),
    );
    expect(requests).toEqual([]);
    const badUri = await mlops(['--api', server.url, 'train', '--model', 'churn', '--data', 's3://Bad_Bucket/x.csv']);
    expect(badUri).toMatchObject({ code: EXIT.usage, stderr: expect.stringContaining('is not an s3://bucket/key URI') });
  });

  it('refuses a local path when the local server cannot take uploads, saying what to do', async () => {
    const { uploadDataset: _uploadDataset, ...withoutUpload } = backend;
    const bare = await startApiServer(
      Object.assign(Object.create(Object.getPrototypeOf(backend)), withoutUpload, { uploadDataset: undefined }) as LocalPlatformBackend,
    );
    try {
      const result = await mlops(['--api', bare.url, 'train', '--model', 'churn', '--data', 'x.csv'], { 'x.csv': 'a\n1\n' });
      expect(result.code).toBe(EXIT.usage);
      expect(result.stderr).toMatch(
        /^mlops: --data x\.csv is a local path; .*\n {2}aws s3 cp x\.csv s3:\/\/<datasets bucket>\/churn\/x\.csv\n/,
      );
      expect(result.stderr).toContain('(the bucket is the stack output DatasetsBucketName)');
    } finally {
      await bare.close();
    }
  });

  it('names the URL and the cause when the API cannot be reached', async () => {
    const port = await closedPort();
    const result = await mlops(['--api', `http://127.0.0.1:${port}/`, 'models']);
    expect(result.code).toBe(EXIT.failed);
    expect(result.stderr).toBe(
      `mlops: cannot reach the API at http://127.0.0.1:${port}/models: connection refused, nothing listens there (ECONNREFUSED); is the offline runtime still running (\`npm start -- --keep-running\` prints its URL)?\n`,
    );
    const unresolvable = await mlops(
      ['--api', 'https://abc123.execute-api.eu-west-1.amazonaws.com/v1/', '--token', 't', 'models'],
      {},
      {
        fetch: (async () => {
          throw Object.assign(new TypeError('fetch failed'), {
            cause: Object.assign(new Error('getaddrinfo ENOTFOUND abc123.execute-api.eu-west-1.amazonaws.com'), { code: 'ENOTFOUND' }),
          });
        }) as unknown as typeof fetch,
      },
    );
    expect(unresolvable.stderr).toBe(
      'mlops: cannot reach the API at https://abc123.execute-api.eu-west-1.amazonaws.com/v1/models: the host name does not resolve (ENOTFOUND); check --api, --stack-outputs or MLOPS_API_URL\n',
    );
  });

  it('shows how long the current state has run while it waits, then why the run failed', async () => {
    const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();
    const status = (extra: Partial<ExecutionStatus>, states: string[]): ExecutionStatus => ({
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:mlops-dev-churn:run-1',
      stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:mlops-dev-churn',
      name: 'run-1',
      status: 'RUNNING',
      startDate: at(0),
      states: states.map((name, index) => ({ name, enteredAt: at(index) })),
      currentState: states.at(-1),
      ...extra,
    });
    const training = status({}, ['CheckInput', 'ValidateDataset', 'TrainOnSpot']);
    const reason =
      'Dataset s3://datasets/churn/x.csv failed validation: minRows: needs at least 100 rows, has 1; tenure_months max: must be <= 120 in 1 row (e.g. x.csv row 1: "500")';
    backend.nextScript = () => [
      ...Array.from({ length: 6 }, () => training),
      status({ status: 'FAILED', error: 'DatasetInvalid', cause: reason, stopDate: at(50) }, [
        'CheckInput',
        'ValidateDataset',
        'TrainOnSpot',
        'PipelineFailed',
      ]),
    ];
    // The clock starts as TrainOnSpot is entered and moves only while the CLI sleeps between polls.
    let clock = Date.parse(at(2));
    const result = await mlops(
      ['--api', server.url, 'train', '--model', 'churn', '--data', 's3://datasets/churn/x.csv', '--wait', '--interval', '30'],
      {},
      {
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
    );
    expect(result.code).toBe(EXIT.pipelineFailed);
    // Seven polls 30 s apart: a progress line once a minute of no new state.
    expect(PROGRESS_INTERVAL_MS).toBe(60_000);
    expect(result.stderr).toBe('  … TrainOnSpot: 1m 00s so far\n  … TrainOnSpot: 2m 00s so far\n');
    expect(result.stdout.split('\n').slice(-5)).toEqual([
      'status:     FAILED',
      'stopped in: PipelineFailed',
      'error:      DatasetInvalid',
      `reason:     ${reason}`,
      '',
    ]);
  });
});

async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as { port: number };
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
