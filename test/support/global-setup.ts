/**
 * Vitest global setup: one DynamoDB Local for the whole run, its endpoint handed to the
 * tests with `inject('dynamoDbEndpoint')`; each test file creates its own tables.
 *
 * It also gives the run its own temporary folder: TMPDIR points into it for every worker (they
 * inherit this process's environment) and for what they spawn (Python's tempfile, the training
 * jobs' /opt/ml folders), and teardown removes it. Without it a run left ~90 folders in /tmp:
 * `new App()` without an outdir synthesizes into a fresh `cdk.out*` temp folder, and the synth
 * tests' outdirs (cdk-mlops-training-*, cdk-mlops-iam-*, ...) were never removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startDynamoDbLocal } from '../../local/dynamodb-local';

declare module 'vitest' {
  export interface ProvidedContext {
    dynamoDbEndpoint: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const runTemporary = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-test-'));
  process.env.TMPDIR = runTemporary;
  const dynamo = await startDynamoDbLocal();
  project.provide('dynamoDbEndpoint', dynamo.endpoint);
  return async () => {
    await dynamo.stop();
    rmSync(runTemporary, { recursive: true, force: true });
  };
}
