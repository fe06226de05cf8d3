/**
 * The local API server's backend over the offline runtime: the same routes as API Gateway, served
 * by the real registry function, the local Step Functions executions, the approval task tokens and
 * the predict function, so the `mlops` CLI works unchanged against `npm start -- --keep-running`.
 */

import type { ExecutionStatus } from '../contracts/api';
import { staleTaskToken } from '../lambdas/api/api';
import { dispatch } from '../lambdas/registry/registry';
import type { LocalPlatformBackend, TrainingInput } from './api-server';
import { LOCAL_ACCOUNT, LOCAL_REGION, type LocalPlatform } from './runtime';

export function localBackend(platform: LocalPlatform): LocalPlatformBackend {
  const served = [...platform.models.values()].filter((model) => model.serving.mode === 'serverless').map((model) => model.name);
  return {
    trainableModels: served,
    servedModels: served,
    registry: async (action, request) => JSON.parse(JSON.stringify(await dispatch(platform.registry, { action, ...request }))),
    async describeExecution(executionArn): Promise<ExecutionStatus> {
      const execution = platform.execution(executionArn);
      const current = execution.states.at(-1);
      return {
        executionArn: execution.executionArn,
        stateMachineArn: `arn:aws:states:${LOCAL_REGION}:${LOCAL_ACCOUNT}:stateMachine:local-${execution.model}-training`,
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
        ...(execution.cause ? { cause: execution.cause } : {}),
      };
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
    predict: (model, body) => platform.predict(model, body),
  };
}
