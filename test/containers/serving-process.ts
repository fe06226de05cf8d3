/**
 * Helpers for the serving container tests: the model the demo trains (cdk.json's `churn` model,
 * the demo's generated customers, the real training program run by the offline runtime's
 * SageMaker training stand-in, its model.tar.gz extracted as SageMaker extracts it into
 * /opt/ml/model), and the server started as a real process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { x as extract } from 'tar';
import { modelDocument } from '../../contracts/model';
import { parseConfig, resolveModel } from '../../contracts/platform-config';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { type ModelSchema, modelSchemaFor } from '../../contracts/serving-schema';
import { TRAINING_SOURCE_DIRECTORY, writeTrainingCodeArchive } from '../../contracts/training-code';
import { MODEL_DOCUMENT_FILE, submitDirectoryOf, TRAINING_CHANNELS } from '../../contracts/training-job';
import type { ObjectStore, StoredObject } from '../../lambdas/shared/object-store';
import { LocalTrainingJobs } from '../../local/sagemaker-training';
import { generateChurn, toCsv } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

/** Just what a training job reads and writes (channels in, the archive out). */
class InMemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    return [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/${prefix}`))
      .map((id) => this.stored(id, id.slice(bucket.length + 1)));
  }
  async head(bucket: string, key: string): Promise<StoredObject> {
    return this.stored(`${bucket}/${key}`, key);
  }
  async stream(bucket: string, key: string) {
    const body = await this.getBytes(bucket, key);
    return (async function* () {
      yield body;
    })();
  }
  ranges(): never {
    throw new Error('the demo dataset is CSV; no ranged reads');
  }
  async getText(bucket: string, key: string): Promise<string> {
    return Buffer.from(await this.getBytes(bucket, key)).toString('utf8');
  }
  async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    const body = this.objects.get(`${bucket}/${key}`);
    if (!body) throw Object.assign(new Error(`NoSuchKey: ${bucket}/${key}`), { name: 'NotFoundError' });
    return body;
  }
  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(`${bucket}/${key}`, typeof body === 'string' ? Buffer.from(body) : body);
  }
  private stored(id: string, key: string): StoredObject {
    const body = this.objects.get(id);
    if (!body) throw Object.assign(new Error(`NoSuchKey: ${id}`), { name: 'NotFoundError' });
    return { key, size: body.length, etag: '"1"' };
  }
}

const config = parseConfig(cdkJsonContext.mlops);
/** cdk.json's churn model, as the training pipeline's model document. */
export const DEMO_MODEL = modelDocument(resolveModel(config, config.models.find((model) => model.name === 'churn')!));
/** Its serving schema: what the stack puts in the container's MODEL_SCHEMA. */
export const DEMO_SCHEMA: ModelSchema = modelSchemaFor(DEMO_MODEL);

/**
 * Trains the demo's churn model as `npm start` does — the training program (training/) as its
 * code channel, the demo's generated customers as `train`, the model document as `config` — and
 * extracts its model.tar.gz into `modelDirectory`. Returns the ONNX bytes.
 */
export async function trainDemoModel(modelDirectory: string): Promise<Uint8Array> {
  const store = new InMemoryObjectStore();
  const codeFolder = mkdtempSync(path.join(tmpdir(), 'serving-test-code-'));
  try {
    const archive = writeTrainingCodeArchive(TRAINING_SOURCE_DIRECTORY, codeFolder);
    await store.put('assets', `training-code/${path.basename(archive)}`, readFileSync(archive));
  } finally {
    rmSync(codeFolder, { recursive: true, force: true });
  }
  await store.put('datasets', 'churn/train/part-0000.csv', toCsv(generateChurn({ rows: 3000, seed: 3 })));
  const document = { ...DEMO_MODEL, servingSchema: DEMO_SCHEMA };
  await store.put('datasets', `churn/config/${MODEL_DOCUMENT_FILE}`, JSON.stringify(document));
  const channel = (name: string, uri: string) => ({ ChannelName: name, DataSource: { S3DataSource: { S3Uri: uri } } });
  const job = await new LocalTrainingJobs({ store }).run({
    TrainingJobName: 'demo-churn-serving-test',
    HyperParameters: {
      sagemaker_program: 'train.py',
      sagemaker_submit_directory: submitDirectoryOf('training-code/sourcedir.tar.gz'),
      seed: '3',
    },
    InputDataConfig: [
      channel(TRAINING_CHANNELS.train, 's3://datasets/churn/train/'),
      channel(TRAINING_CHANNELS.config, 's3://datasets/churn/config/'),
      channel(TRAINING_CHANNELS.code, 's3://assets/training-code/sourcedir.tar.gz'),
    ],
    OutputDataConfig: { S3OutputPath: 's3://artifacts/models/churn/' },
    ResourceConfig: { InstanceType: 'ml.m5.large', InstanceCount: 1 },
    StoppingCondition: { MaxRuntimeInSeconds: 600 },
  });
  const archive = await store.getBytes('artifacts', job.ModelArtifacts.S3ModelArtifacts.replace('s3://artifacts/', ''));
  mkdirSync(modelDirectory, { recursive: true });
  const archiveFile = path.join(modelDirectory, '..', 'model.tar.gz');
  writeFileSync(archiveFile, archive);
  await extract({ file: archiveFile, cwd: modelDirectory });
  return readFileSync(path.join(modelDirectory, 'model.onnx'));
}

export interface ServingProcess {
  readonly process: ChildProcess;
  readonly url: string;
  /** Every JSON log line the process wrote so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process ends. */
  readonly exited: Promise<number | null>;
}

export const SERVER_ENTRY = path.join(PROJECT_ROOT, 'containers/onnx-serving/server.ts');

/**
 * Starts `node <entry> serve` (the TypeScript server through tsx unless `entry` is a bundle) on a
 * free port and resolves once it listens. Rejects with its output if it exits first.
 */
export function startServing(environment: Record<string, string>, entry = SERVER_ENTRY, command = 'serve') {
  const args = entry.endsWith('.ts') ? ['--import', 'tsx', entry, command] : [entry, command];
  const child = spawn(process.execPath, args, {
    cwd: PROJECT_ROOT,
    env: { PATH: process.env.PATH, SAGEMAKER_BIND_TO_PORT: '0', ...environment },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return new Promise<ServingProcess>((resolve, reject) => {
    let pending = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.message === 'listening') resolve({ process: child, url: `http://127.0.0.1:${entry.port}`, logs, exited });
      }
    });
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    exited.then((code) => reject(new Error(`the server exited with ${code} before listening:\n${output}`)));
  });
}

/** Polls /ping until it answers 200 (the model loaded) or `timeoutMs` passes. */
export async function waitUntilHealthy(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await fetch(`${url}/ping`);
    await response.arrayBuffer();
    if (response.status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url}/ping still answers ${response.status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Sends SIGTERM (if still running) and waits for the exit. */
export async function stopServing(serving: ServingProcess | undefined): Promise<void> {
  if (!serving) return;
  if (serving.process.exitCode === null && serving.process.signalCode === null) serving.process.kill('SIGTERM');
  await serving.exited;
}
