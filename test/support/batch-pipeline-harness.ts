/**
 * Runs the real statemachines/batch-inference.asl.json with aws-local-stepfunctions, the real
 * batch-score code (BatchJob: the churn ONNX model through OnnxScorer, an in-memory registry and
 * object store) behind its Lambda states and a drift double. Shared by the pipeline's execution
 * tests and its ASL mutation tests.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import { batchSubstitutions, readBatchDefinition } from '../../contracts/batch-inference';
import { renderDefinition } from '../../contracts/state-machines';
import { BatchJob, type BatchSummary } from '../../lambdas/batch-score/batch-job';
import type { ObjectStore, StoredObject } from '../../lambdas/shared/object-store';
import { Registry } from '../../lambdas/shared/registry/registry-service';
import { OnnxScorer } from '../../lambdas/shared/serving/onnx-scorer';
import { CHURN_SCHEMA, churnModelBytes, type churnRows } from '../../testkit/churn-model';
import { InMemoryRegistryStore } from '../../testkit/in-memory-registry-store';
import type { Definition } from './asl-mutations';
import { registerChurnVersions } from './registry-versions';

const ACTOR = 'arn:aws:iam::123456789012:role/pipeline';
export const BATCH_SUBSTITUTIONS = batchSubstitutions({
  modelName: 'churn',
  batchScoreFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:churn-batch-score',
  checkDriftFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:churn-check-drift',
  captureBucket: 'capture',
});

/** Objects in memory (what the S3 adapter does, minus the network). */
export class MemoryObjects implements ObjectStore {
  readonly objects = new Map<string, string>();
  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    return [...this.objects.keys()]
      .filter((id) => id.startsWith(`${bucket}/${prefix}`))
      .sort()
      .map((id) => ({ key: id.slice(bucket.length + 1), size: this.objects.get(id)!.length, etag: '"1"' }));
  }
  async head(bucket: string, key: string): Promise<StoredObject> {
    const body = this.objects.get(`${bucket}/${key}`);
    if (body === undefined) throw Object.assign(new Error(`no object ${key}`), { name: 'NotFoundError' });
    return { key, size: body.length, etag: '"1"' };
  }
  async getText(bucket: string, key: string): Promise<string> {
    await this.head(bucket, key);
    return this.objects.get(`${bucket}/${key}`)!;
  }
  async put(bucket: string, key: string, body: string | Uint8Array): Promise<void> {
    this.objects.set(`${bucket}/${key}`, typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  }
  stream(): never {
    throw new Error('not used');
  }
  ranges(): never {
    throw new Error('not used');
  }
  getBytes(): never {
    throw new Error('not used');
  }
}

/** A CSV of churn rows with a customer_id column; the rows at `broken` get a contract the schema does not allow. */
export function csvOf(rows: ReturnType<typeof churnRows>, idPrefix: string, broken: number[] = []): string {
  const lines = rows.map((row, index) =>
    [
      `${idPrefix}-${index}`,
      row.tenure_months,
      row.monthly_charges,
      broken.includes(index) ? 'weekly' : row.contract,
      row.auto_pay ?? '',
    ].join(','),
  );
  return ['customer_id,tenure_months,monthly_charges,contract,auto_pay', ...lines].join('\n');
}

export type BatchRun =
  | { readonly status: 'SUCCEEDED'; readonly output: BatchSummary; readonly error?: undefined; readonly cause?: undefined }
  | { readonly status: 'FAILED'; readonly output?: undefined; readonly error?: string; readonly cause?: string };

/** A Lambda error as the Lambda integration raises it (its name is the Error a Retry or Catch matches). */
export const lambdaError = (name: string, message = name) => Object.assign(new Error(message), { name });

/**
 * Versions 1-3 of churn registered, 2 in Production and 3 Rejected; a BatchJob over in-memory
 * objects whose clock ticks 500 ms a reading; the drift double answers no-drift unless told to fail.
 */
export class BatchPipelineHarness {
  readonly objects = new MemoryObjects();
  readonly store = new InMemoryRegistryStore();
  readonly registry = new Registry(this.store, { knownModels: ['churn'] });
  readonly job: BatchJob;
  readonly driftCalls: unknown[] = [];
  /** Calls per Lambda state, and the scoring time the children reported. */
  readonly calls: Record<string, number> = {};
  scoringMs = 0;
  driftFails = false;
  /** Errors thrown once by the named Lambda state before it answers (a throttle, a timeout). */
  readonly throwOnce = new Map<string, Error>();

  /** @param mutate applied to the parsed definition before each run (ASL mutation testing). */
  constructor(private readonly mutate?: (definition: Definition) => void) {
    this.job = new BatchJob({
      schema: CHURN_SCHEMA,
      registry: this.store,
      objects: this.objects,
      captureBucket: 'capture',
      datasetsBucket: 'datasets',
      artifactsBucket: 'artifacts',
      memoryMb: 2048,
      loadScorer: () => OnnxScorer.create(churnModelBytes()),
      clock: (() => {
        let now = 0;
        return () => (now += 500);
      })(),
    });
  }

  async registerVersions(): Promise<this> {
    await registerChurnVersions(this.registry, 3, ACTOR);
    await this.registry.promote({ modelName: 'churn', version: 2, actor: ACTOR });
    await this.registry.transition({ modelName: 'churn', version: 3, toStage: 'Rejected', actor: ACTOR });
    return this;
  }

  async run(input: Record<string, unknown>, name = 'batch-1'): Promise<BatchRun> {
    const definition = JSON.parse(renderDefinition(readBatchDefinition(), BATCH_SUBSTITUTIONS)) as Definition;
    this.mutate?.(definition);
    // A mutant may not be valid ASL; the real definition is validated as it runs.
    const machine = new StateMachine(definition as never, this.mutate ? { validationOptions: { noValidate: true } } : undefined);
    const lambda = (state: string) => async (event: { FunctionName: string; Payload: unknown }) => {
      this.calls[state] = (this.calls[state] ?? 0) + 1;
      const fault = this.throwOnce.get(state);
      if (fault) {
        this.throwOnce.delete(state);
        throw fault;
      }
      if (event.FunctionName === BATCH_SUBSTITUTIONS.CheckDriftFunctionArn) {
        this.driftCalls.push(event.Payload);
        if (this.driftFails) throw lambdaError('NotFoundError', 'no production version');
        return { StatusCode: 200, Payload: { status: 'no-drift', model: 'churn' } };
      }
      const answer = JSON.parse(JSON.stringify(await this.job.run(event.Payload)));
      if ((event.Payload as { mode?: string }).mode === 'score') this.scoringMs += answer.durationMs;
      return { StatusCode: 200, Payload: answer };
    };
    const states = ['ListInputs', 'ScoreObject', 'CheckDrift', 'Summarize'];
    const execution = machine.run(input as never, {
      context: { Execution: { Id: `arn:aws:states:us-east-1:123456789012:execution:churn-batch:${name}`, Name: name } } as never,
      overrides: {
        taskResourceLocalHandlers: Object.fromEntries(states.map((state) => [state, lambda(state)])) as never,
        retryIntervalOverrides: Object.fromEntries(states.map((state) => [state, 0])),
      },
    });
    let error: string | undefined;
    let cause: string | undefined;
    const logs = (async () => {
      for await (const event of execution.eventLogs) {
        const entry = event as { type: string; Error?: string; Cause?: string };
        if (entry.type === 'ExecutionFailed') {
          error = entry.Error;
          cause = entry.Cause;
        }
      }
    })();
    try {
      const output = (await execution.result) as unknown as BatchSummary;
      await logs;
      return { status: 'SUCCEEDED', output };
    } catch {
      await logs;
      return { status: 'FAILED', error, cause };
    }
  }
}
