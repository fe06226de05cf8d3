/**
 * A LocalPlatformBackend for API and CLI tests: the real registry (Registry + dispatch) over
 * the in-memory store, scripted pipeline executions, recorded task-token answers and a fake
 * predictor. The offline runtime supplies the real equivalents.
 */

import type { ExecutionStatus, RedriveResponse } from '../../contracts/api';
import type { BatchRequest } from '../../contracts/batch-inference';
import { staleTaskToken } from '../../lambdas/api/api';
import { type RedriveFacts, redrivePlan } from '../../lambdas/api/redrive';
import { dispatch } from '../../lambdas/registry/registry';
import { NotFoundError, ValidationError } from '../../lambdas/shared/errors';
import { registryCardReader, writeModelCard } from '../../lambdas/shared/model-card';
import { Registry } from '../../lambdas/shared/registry/registry-service';
import type { LocalPlatformBackend, TrainingInput } from '../../local/api-server';
import { InMemoryRegistryStore } from '../../testkit/in-memory-registry-store';

export const STUB_ACCOUNT_PREFIX = 'arn:aws:states:us-east-1:123456789012';

export class StubPlatformBackend implements LocalPlatformBackend {
  trainableModels: string[] = ['churn'];
  servedModels: string[] = ['churn'];
  readonly registryCore: Registry;
  readonly started: TrainingInput[] = [];
  /** Batch runs started, in order. */
  readonly batches: BatchRequest[] = [];
  readonly answers: Array<{ kind: 'success' | 'failure'; token: string; payload: unknown }> = [];
  readonly expiredTokens = new Set<string>();
  /** Per execution ARN, the statuses successive status requests return (the last repeats). */
  readonly scripts = new Map<string, ExecutionStatus[]>();
  /** Rows per predict request, in the order they came. */
  readonly predictRequests: number[] = [];
  /** Datasets uploaded through the offline runtime's upload route. */
  readonly uploads: Array<{ model: string; fileName: string; text: string }> = [];
  /** Per execution ARN, what Step Functions and the history say of a stopped run (the redrive route's facts). */
  readonly stoppedRuns = new Map<string, RedriveFacts>();
  /** What the next started execution will report, state by state. */
  nextScript: (executionArn: string) => ExecutionStatus[] = (executionArn) => succeedingRun(executionArn);

  constructor(models: readonly string[] = ['churn']) {
    this.registryCore = new Registry(new InMemoryRegistryStore(), { knownModels: models });
  }

  /** Objects the model cards wrote (bucket/key → text); no report or profile exists here. */
  readonly cardObjects = new Map<string, string>();

  modelCard(modelName: string, version: number) {
    return writeModelCard(
      {
        registry: registryCardReader((action, request) => this.registry(action, request)),
        store: {
          getText: async (bucket, key) => {
            const text = this.cardObjects.get(`${bucket}/${key}`);
            if (text === undefined) throw new NotFoundError(`object s3://${bucket}/${key} does not exist`);
            return text;
          },
          put: async (bucket, key, body) => {
            this.cardObjects.set(`${bucket}/${key}`, typeof body === 'string' ? body : new TextDecoder().decode(body));
          },
        },
        artifactsBucket: 'artifacts',
        config: { problemType: 'binary-classification', target: 'churned', features: ['tenure_months'], intendedUse: 'retention offers' },
        now: () => new Date('2026-01-01T00:00:00Z'),
      },
      modelName,
      version,
    );
  }

  registry(action: string, request: Record<string, unknown>): Promise<unknown> {
    return dispatch(this.registryCore, { action, ...request });
  }

  async startTraining(model: string, input: TrainingInput) {
    this.started.push(input);
    const executionArn = `${STUB_ACCOUNT_PREFIX}:execution:mlops-dev-${model}:run-${this.started.length}`;
    this.scripts.set(executionArn, this.nextScript(executionArn));
    return { executionArn, startDate: 1_767_225_600 };
  }

  async startBatch(model: string, input: BatchRequest) {
    this.batches.push(input);
    const executionArn = `${STUB_ACCOUNT_PREFIX}:execution:mlops-dev-${model}-batch:batch-${this.batches.length}`;
    this.scripts.set(executionArn, this.nextScript(executionArn));
    return { executionArn, startDate: 1_767_225_600 };
  }

  async describeExecution(executionArn: string): Promise<ExecutionStatus> {
    const script = this.scripts.get(executionArn);
    if (!script) throw new NotFoundError('no pipeline execution has that ARN', { id: executionArn });
    return script.length > 1 ? script.shift()! : script[0]!;
  }

  async redriveExecution(executionArn: string): Promise<RedriveResponse> {
    const facts = this.stoppedRuns.get(executionArn);
    if (!facts) throw new NotFoundError('no pipeline execution has that ARN', { id: executionArn });
    const plan = redrivePlan(facts);
    this.stoppedRuns.set(executionArn, { ...facts, status: 'RUNNING', redriveCount: facts.redriveCount + 1 });
    return { executionArn, redriveDate: 1_767_229_200, redriveCount: facts.redriveCount + 1, ...plan };
  }

  async sendTaskSuccess(token: string, output: Record<string, unknown>) {
    if (this.expiredTokens.has(token)) throw staleTaskToken('TaskTimedOut');
    this.answers.push({ kind: 'success', token, payload: output });
  }

  async sendTaskFailure(token: string, error: string, cause: string) {
    if (this.expiredTokens.has(token)) throw staleTaskToken('TaskTimedOut');
    this.answers.push({ kind: 'failure', token, payload: { error, cause } });
  }

  /** Scores `tenure` (stay above 12 months), flags tenures over 72 as outside the training range, as predict words its refusals. */
  async predict(model: string, body: { instances: unknown[] }) {
    this.predictRequests.push(body.instances.length);
    const predictions = body.instances.map((row, index) => {
      const tenure = (row as Record<string, unknown>).tenure;
      if (typeof tenure !== 'number')
        throw new ValidationError(`instances[${index}].tenure: must be a number, got ${JSON.stringify(tenure)}`);
      const prediction = { label: tenure > 12 ? 'stay' : 'churn', probabilities: tenure > 12 ? [0.2, 0.8] : [0.9, 0.1] };
      return tenure > 72 || tenure < 0 ? { ...prediction, outOfRange: ['tenure'] } : prediction;
    });
    return { modelName: model, modelVersion: 3, labels: ['churn', 'stay'], predictions };
  }

  async uploadDataset(model: string, fileName: string, body: Uint8Array) {
    this.uploads.push({ model, fileName, text: Buffer.from(body).toString('utf8') });
    return { datasetUri: `s3://local-datasets/${model}/uploads/${this.uploads.length}/${fileName}` };
  }

  /** Registers a version as the pipeline would. */
  async registerVersion(modelName = 'churn', accuracy = 0.9) {
    return this.registryCore.registerVersion({
      modelName,
      artifactUri: `s3://artifacts/models/${modelName}/model.tar.gz`,
      artifactSha256: 'a'.repeat(64),
      metrics: { accuracy },
      lineage: { datasetUri: `s3://datasets/${modelName}/train.csv`, datasetEtag: '"e1"' },
      actor: 'test',
    });
  }
}

const at = (second: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, second)).toISOString();

function status(executionArn: string, state: string, states: string[], extra: Partial<ExecutionStatus> = {}): ExecutionStatus {
  return {
    executionArn,
    stateMachineArn: executionArn.replace(/:execution:([^:]+):.*$/, ':stateMachine:$1'),
    name: executionArn.split(':').at(-1)!,
    status: state,
    startDate: at(0),
    states: states.map((name, index) => ({ name, enteredAt: at(index + 1) })),
    currentState: states.at(-1),
    ...extra,
  };
}

export function succeedingRun(executionArn: string): ExecutionStatus[] {
  return [
    status(executionArn, 'RUNNING', ['CheckInput', 'ApplyDefaults']),
    status(executionArn, 'RUNNING', ['CheckInput', 'ApplyDefaults', 'ValidateDataset', 'TrainOnSpot']),
    status(executionArn, 'SUCCEEDED', ['CheckInput', 'ApplyDefaults', 'ValidateDataset', 'TrainOnSpot', 'PromoteVersion'], {
      stopDate: at(30),
    }),
  ];
}

export function failingRun(executionArn: string): ExecutionStatus[] {
  return [
    status(executionArn, 'RUNNING', ['CheckInput']),
    status(executionArn, 'FAILED', ['CheckInput', 'ValidateDataset', 'PipelineFailed'], {
      stopDate: at(9),
      error: 'DatasetInvalid',
      cause: '12% of rows break the schema (max 1%)',
    }),
  ];
}
