/**
 * The drift benchmark's memory cases (issue 19), each check run in a child process so its peak RSS
 * is check-drift's own: a 2M-row capture window (serverless capture JSON Lines, 200 objects of
 * 10,000 rows, ~780 MB) and one 40 MB line (a serverless capture record with a 40 MB text field). The objects are files on disk behind a minimal ObjectStore, so no S3 emulator
 * shares the process. Run alone: npx tsx bench/drift-memory.ts
 */
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkDrift } from '../lambdas/check-drift/check-drift';
import type { ObjectStore, StoredObject } from '../lambdas/shared/object-store';
import { serializeProfile } from '../lambdas/shared/profile/codec';
import { NumericColumnProfiler } from '../lambdas/shared/profile/profilers';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { InMemoryRegistryStore } from '../testkit/in-memory-registry-store';
import { normalSampler, sample, seededRandom } from '../testkit/samples';
import { benchDriftSettings } from './drift-window';

const MODEL = 'bench';
const FEATURES = 20;
const WINDOW_ROWS = 2_000_000;
const ROWS_PER_OBJECT = 10_000;
const LONG_LINE_BYTES = 40e6;
const root = path.join(tmpdir(), 'cdk-mlops-bench', 'drift-memory');
const names = Array.from({ length: FEATURES }, (_, index) => `x${index}`);

/** Objects as files under root/<bucket>/<key>. */
class FileObjectStore implements ObjectStore {
  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    const directory = path.join(root, bucket, prefix);
    return readdirSync(directory, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(path.join(root, bucket), path.join(entry.parentPath, entry.name)))
      .sort()
      .map((key) => ({ key, size: statSync(path.join(root, bucket, key)).size, etag: key }));
  }
  async head(bucket: string, key: string): Promise<StoredObject> {
    return { key, size: statSync(path.join(root, bucket, key)).size, etag: key };
  }
  async stream(bucket: string, key: string) {
    return createReadStream(path.join(root, bucket, key));
  }
  ranges(): never {
    throw new Error('not used by check-drift');
  }
  async getText(bucket: string, key: string): Promise<string> {
    return readFile(path.join(root, bucket, key), 'utf8');
  }
  async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    return readFile(path.join(root, bucket, key));
  }
  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    mkdirSync(path.dirname(path.join(root, bucket, key)), { recursive: true });
    writeFileSync(path.join(root, bucket, key), body);
  }
}

function writeObject(bucket: string, key: string, body: string): void {
  mkdirSync(path.dirname(path.join(root, bucket, key)), { recursive: true });
  writeFileSync(path.join(root, bucket, key), body);
}

function generate(): void {
  rmSync(root, { recursive: true, force: true });
  const random = seededRandom(19);
  const normal = normalSampler(random);
  const columns = Object.fromEntries(
    names.map((name) => {
      const profiler = new NumericColumnProfiler();
      const values = sample(100_000, () => 50 + 10 * normal());
      profiler.addBatch(values, new Uint8Array(values.length), values.length);
      return [name, profiler.finish()];
    }),
  );
  writeObject('artifacts', 'profiles/bench/run-1/profile.json', serializeProfile({ formatVersion: 1, rowCount: 100_000, columns }));
  const value = () => Math.round((51 + 10 * normal()) * 1000) / 1000;
  for (let object = 0; object < WINDOW_ROWS / ROWS_PER_OBJECT; object++) {
    const lines: string[] = [];
    for (let row = 0; row < ROWS_PER_OBJECT; row++) {
      const input = Object.fromEntries(names.map((name) => [name, value()]));
      lines.push(
        JSON.stringify({
          capturedAt: '2026-05-01T10:30:00.000Z',
          requestId: `r${object}-${row}`,
          modelName: MODEL,
          modelVersion: 1,
          row,
          input,
          output: { value: 0 },
        }),
      );
    }
    writeObject('capture', `window/${MODEL}/serverless/2026/05/01/10/${String(object).padStart(5, '0')}.jsonl`, `${lines.join('\n')}\n`);
  }
  // One serverless record carrying a 40 MB string beside its features (a free-text field the model
  // ignores): the line is split, joined and parsed once, and profiles as one row.
  const record = {
    capturedAt: '2026-05-01T10:30:00.000Z',
    requestId: 'long',
    modelName: MODEL,
    modelVersion: 1,
    row: 0,
    input: { ...Object.fromEntries(names.map((name) => [name, value()])), note: 'x'.repeat(LONG_LINE_BYTES) },
    output: { value: 0 },
  };
  writeObject('capture', `long-line/${MODEL}/serverless/record.jsonl`, `${JSON.stringify(record)}\n`);
}

/** In the child: check-drift over every object under capture/<prefix>/. */
async function child(prefix: string): Promise<void> {
  const store = new FileObjectStore();
  const registry = new InMemoryRegistryStore();
  const service = new Registry(registry);
  const version = await service.registerVersion({
    modelName: MODEL,
    artifactUri: 's3://artifacts/models/bench/1/model.tar.gz',
    artifactSha256: 'a'.repeat(64),
    lineage: { datasetUri: 's3://datasets/bench/', datasetEtag: 'e1', profileUri: 's3://artifacts/profiles/bench/run-1/profile.json' },
    actor: 'bench',
  });
  await service.promote({ modelName: MODEL, version: version.version, actor: 'bench' });
  const settings = benchDriftSettings(MODEL, names);
  const started = process.hrtime.bigint();
  const cpuBefore = process.cpuUsage();
  const outcome = await checkDrift({ store, registry, artifactsBucket: 'artifacts', captureBucket: 'capture' }, settings, {
    model: MODEL,
    captureUri: `s3://capture/${prefix}/`,
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const cpu = process.cpuUsage(cpuBefore);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const rows = 'sampleSize' in outcome.result ? outcome.result.sampleSize : 0;
  process.stdout.write(`${JSON.stringify({ seconds, cpuSeconds, rows, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
}

interface ChildResult {
  readonly seconds: number;
  /** CPU time (user + system): on a shared machine the wall time also counts other processes' turns. */
  readonly cpuSeconds: number;
  readonly rows: number;
  readonly peakRssMb: number;
}

function runChild(prefix: string): ChildResult {
  const output = execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--child', prefix], {
    encoding: 'utf8',
    maxBuffer: 1 << 20,
  });
  return JSON.parse(output.trim().split('\n').at(-1)!) as ChildResult;
}

/** Generates the capture objects, runs both cases, prints them with their aims and returns the JSON fields. */
export function runDriftMemoryCases(): {
  e2e_window_peak_rss_mb: number;
  long_line_s: number;
  long_line_cpu_s: number;
  long_line_peak_rss_mb: number;
} {
  generate();
  const megabytes = (prefix: string) =>
    readdirSync(path.join(root, 'capture', prefix), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .reduce((total, entry) => total + statSync(path.join(entry.parentPath, entry.name)).size, 0) / 1e6;
  const window = runChild('window');
  console.log(
    `memory: check-drift over ${window.rows.toLocaleString()} captured rows (${megabytes('window').toFixed(0)} MB of JSON Lines) in ${window.seconds.toFixed(1)} s, peak RSS ${window.peakRssMb} MB (aim <= 512 MB of the function's 1,024 MB)`,
  );
  const longLine = runChild('long-line');
  console.log(
    `memory: one ${megabytes('long-line').toFixed(0)} MB line in ${longLine.seconds.toFixed(2)} s, ${longLine.cpuSeconds.toFixed(2)} s of CPU (aim <= 1 s), peak RSS ${longLine.peakRssMb} MB`,
  );
  rmSync(root, { recursive: true, force: true });
  return {
    e2e_window_peak_rss_mb: window.peakRssMb,
    long_line_s: Math.round(longLine.seconds * 1000) / 1000,
    long_line_cpu_s: Math.round(longLine.cpuSeconds * 1000) / 1000,
    long_line_peak_rss_mb: longLine.peakRssMb,
  };
}

const childArgument = process.argv.indexOf('--child');
if (childArgument > 0) await child(process.argv[childArgument + 1]!);
else if (process.argv[1] === fileURLToPath(import.meta.url))
  console.log(JSON.stringify({ bench: 'drift-memory', ...runDriftMemoryCases() }));
