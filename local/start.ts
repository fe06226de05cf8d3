/**
 * `npm start`: the offline preview. Synthesizes the stack from cdk.json (with cdk-nag and
 * CloudFormation Guard), prints what `cdk deploy` would create, then runs the model registry's
 * lifecycle (register → promote → promote → rollback) on DynamoDB Local with the real
 * registry code. The full pipeline lifecycle joins this runtime as its pieces land.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { Stack } from 'aws-cdk-lib';
import { DynamoDbRegistryStore } from '../lambdas/registry/dynamodb-store';
import { Registry } from '../lambdas/registry/registry';
import { createApp } from '../lib/app';
import { ConfigError } from '../lib/config';
import { PROJECT_ROOT } from '../lib/constructs/mlops-function';
import { createRegistryTable, LOCAL_AWS, startDynamoDbLocal } from './dynamodb-local';

const log = (line = '') => process.stdout.write(`${line}\n`);
const elapsed = (start: number) => `${((performance.now() - start) / 1000).toFixed(2)} s`;

function readCdkContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

function summarizeDeployment(): string[] {
  const started = performance.now();
  const context = readCdkContext();
  const { app, stack, config } = createApp({ appProps: { context, outdir: path.join(PROJECT_ROOT, 'cdk.out') } });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string }> };
  const counts = new Map<string, number>();
  for (const resource of Object.values(template.Resources)) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
  log(`== What \`cdk deploy\` would create: stack ${Stack.of(stack).stackName} (synthesized, cdk-nag clean, in ${elapsed(started)})`);
  for (const [type, count] of [...counts].sort(([a], [b]) => a.localeCompare(b))) log(`   ${String(count).padStart(3)}  ${type}`);
  log(
    `   models: ${config.models.map((model) => `${model.name} (${model.problemType}, serving ${model.serving?.mode ?? config.serving.mode})`).join(', ')}`,
  );
  log(
    `   training: ${config.training.instanceType}, spot ${config.training.useSpot ? 'on' : 'off'}, max ${config.training.maxRuntimeSeconds} s`,
  );
  log();
  return config.models.map((model) => model.name);
}

async function registryLifecycle(modelNames: string[]): Promise<void> {
  const started = performance.now();
  log('== Model registry lifecycle on DynamoDB Local (the registry function code, real transactions)');
  const dynamo = await startDynamoDbLocal();
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint: dynamo.endpoint });
  try {
    await createRegistryTable(client, 'registry');
    const registry = new Registry(
      new DynamoDbRegistryStore(DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), 'registry'),
      { knownModels: modelNames },
    );
    const modelName = modelNames[0]!;
    const step = async <T>(label: string, action: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const result = await action();
      log(`   ${label.padEnd(52)} ${elapsed(t)}`);
      return result;
    };
    const register = (accuracy: number, run: number) =>
      registry.registerVersion({
        modelName,
        artifactUri: `s3://local-artifacts/models/${modelName}/run-${run}/model.tar.gz`,
        artifactSha256: `${run}`.repeat(64).slice(0, 64),
        metrics: { accuracy },
        lineage: { datasetUri: `s3://local-datasets/${modelName}/run-${run}.csv`, datasetEtag: `"etag-${run}"`, hyperparameters: {} },
        actor: 'npm-start',
        idempotencyKey: `npm-start-run-${run}`,
      });
    const v1 = await step(`register ${modelName} v1 (accuracy 0.91)`, () => register(0.91, 1));
    await step(`promote v${v1.version} to Production`, () => registry.promote({ modelName, version: v1.version, actor: 'npm-start' }));
    const v2 = await step(`register ${modelName} v2 (accuracy 0.93)`, () => register(0.93, 2));
    await step(`promote v${v2.version}; v${v1.version} archived as rollback target`, () =>
      registry.promote({ modelName, version: v2.version, actor: 'npm-start' }),
    );
    const rolledBack = await step(`roll back v${v2.version} (simulated latency alarm)`, () =>
      registry.rollback({ modelName, actor: 'npm-start', reason: 'simulated p99 latency alarm', fromVersion: v2.version }),
    );
    const { items } = await registry.listEvents({ modelName, limit: 10 });
    log(`   production version now v${rolledBack.model.productionVersion}; audit trail (newest first):`);
    for (const event of items) {
      log(
        `     ${event.at}  ${event.action.padEnd(9)} v${event.version}  ${event.fromStage ?? '-'} → ${event.toStage}  ${event.reason ?? ''}`,
      );
    }
    log(`   done in ${elapsed(started)}`);
  } finally {
    client.destroy();
    await dynamo.stop();
  }
}

try {
  const modelNames = summarizeDeployment();
  await registryLifecycle(modelNames);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
