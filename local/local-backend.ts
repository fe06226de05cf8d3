/**
 * The local API server's backend over the offline runtime: the same routes as API Gateway, served
 * by the real registry function, the local Step Functions executions, the approval task tokens and
 * the predict function, so the `mlops` CLI works unchanged against `npm start -- --keep-running`.
 */

import { createHash } from 'node:crypto';
import type { ExecutionStatus } from '../contracts/api';
import { LOCAL_UPLOADS_FOLDER } from '../contracts/dataset';
import { staleTaskToken } from '../lambdas/api/api';
import { readableCause } from '../lambdas/api/executions';
import { failedStateOf, redrivePlan } from '../lambdas/api/redrive';
import { dispatch } from '../lambdas/registry/registry';
import type { LocalPlatformBackend, TrainingInput } from './api-server';
import { redriveStatusOf } from './redrive';
import { LOCAL_BUCKETS, type LocalPlatform, pipelineKindOf, stateMachineArnOf } from './runtime';

/** Content types of the dataset formats the readers take, by file extension. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  csv: 'text/csv',
  tsv: 'text/tab-separated-values',
  jsonl: 'application/x-ndjson',
  ndjson: 'application/x-ndjson',
  parquet: 'application/vnd.apache.parquet',
};

export function localBackend(platform: LocalPlatform): LocalPlatformBackend {
  const served = [...platform.models.values()].filter((model) => model.serving.mode === 'serverless').map((model) => model.name);
  return {
    trainableModels: served,
    servedModels: served,
    registry: async (action, request) => JSON.parse(JSON.stringify(await dispatch(platform.registry, { action, ...request }))),
    modelCard: (modelName, version) => platform.modelCard(modelName, version),
    async describeExecution(executionArn): Promise<ExecutionStatus> {
      const execution = platform.execution(executionArn);
      const current = execution.states.at(-1);
      return {
        executionArn: execution.executionArn,
        // The training or the batch pipeline's, whichever the execution ran on.
        stateMachineArn: stateMachineArnOf(execution.executionArn),
        name: execution.name,
        status: execution.status,
        startDate: execution.startDate.toISOString(),
        ...(execution.stopDate ? { stopDate: execution.stopDate.toISOString() } : {}),
        ...(current ? { currentState: current.name } : {}),
        states: execution.states.map((state) => ({
          name: state.name,
          enteredAt: new Date(state.enteredAt).toISOString(),
          ...(state.exitedAt === undefined ? {} : { exitedAt: new Date(state.exitedAt).toISOString() }),
        })),
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.cause ? { cause: readableCause(execution.cause) } : {}),
      };
    },
    // The same checks as on AWS, over what the runtime recorded: its redrive status stands in for DescribeExecution's.
    async redriveExecution(executionArn) {
      const execution = platform.execution(executionArn);
      const plan = redrivePlan({
        status: execution.status,
        ...redriveStatusOf(execution, new Date()),
        redriveCount: execution.redriveCount,
        ...(execution.error ? { error: execution.error } : {}),
        ...(execution.lastState ? { stoppedIn: execution.lastState.name } : {}),
        ...(execution.lastState ? { failedState: failedStateOf(execution.lastState.input) } : {}),
        executionRevision: execution.revision,
        currentRevision: platform.definitionRevision(execution.model, pipelineKindOf(execution)),
      });
      const { redriveDate } = platform.redrive(executionArn);
      return { executionArn, redriveDate: Math.floor(redriveDate.getTime() / 1000), redriveCount: execution.redriveCount, ...plan };
    },
    async sendTaskSuccess(taskToken, output) {
      if (!platform.pendingApprovals.has(taskToken)) throw staleTaskToken('no local execution waits on this token');
      platform.decideApprovalTask(taskToken, true, output);
    },
    async sendTaskFailure(taskToken, _error, _cause) {
      if (!platform.pendingApprovals.has(taskToken)) throw staleTaskToken('no local execution waits on this token');
      platform.decideApprovalTask(taskToken, false);
    },
    async startTraining(model: string, input: TrainingInput) {
      const execution = platform.startTraining(model, { ...input });
      return { executionArn: execution.executionArn, startDate: Math.floor(execution.startDate.getTime() / 1000) };
    },
    async startBatch(model, input) {
      const execution = platform.startBatch(model, input);
      return { executionArn: execution.executionArn, startDate: Math.floor(execution.startDate.getTime() / 1000) };
    },
    predict: (model, body) => platform.predict(model, body),
    // Keyed by content, so uploading the same file twice names the same object.
    async uploadDataset(model, fileName, body) {
      const digest = createHash('sha256').update(body).digest('hex').slice(0, 16);
      const key = `${model}/${LOCAL_UPLOADS_FOLDER}/${digest}/${fileName}`;
      const extension = fileName.split('.').at(-1)?.toLowerCase() ?? '';
      await platform.store.put(LOCAL_BUCKETS.datasets, key, body, CONTENT_TYPES[extension] ?? 'application/octet-stream');
      return { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/${key}` };
    },
  };
}
