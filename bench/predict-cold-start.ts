/**
 * The predict handler's cold start, run in a fresh Node.js process by bench/predict.ts (after
 * bundling it the way the Lambda bundle is built): import the handler module, load the model
 * from a model.tar.gz on disk through the same artifact path (SHA-256 check, tar extraction,
 * InferenceSession), answer one request. Prints one JSON line with times since process start.
 * Usage: node <bundle> <model.tar.gz> <sha256>
 */
import { readFileSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { ModelRecord, VersionRecord } from '../contracts/registry';
import { CHURN_SCHEMA, churnRows } from '../testkit/churn-model';
// The deployed entry point, imported for its module graph (the SDK clients, Powertools) as on Lambda;
// its INIT warm-up runs only inside Lambda, so the model below is loaded by this script.
import '../lambdas/predict/handler';
import { createPredictHandler, predictorFromEnvironment } from '../lambdas/predict/predict';

const importedMs = performance.now();
const [archivePath, sha256] = process.argv.slice(2);
if (!archivePath || !sha256) throw new Error('usage: <model.tar.gz> <sha256>');
const at = new Date().toISOString();
const version: VersionRecord = {
  modelName: 'churn',
  version: 1,
  stage: 'Production',
  artifactUri: 's3://artifacts/models/churn/v1/model.tar.gz',
  artifactSha256: sha256,
  metrics: {},
  lineage: { datasetUri: 's3://datasets/churn.csv', datasetEtag: '"1"', hyperparameters: {} },
  createdAt: at,
  createdBy: 'bench',
  updatedAt: at,
};
const model: ModelRecord = {
  modelName: 'churn',
  latestVersion: 1,
  productionVersion: 1,
  productionHistory: [],
  revision: 1,
  createdAt: at,
  updatedAt: at,
};
const logger = new Logger({ logLevel: 'SILENT' });
const predictor = predictorFromEnvironment(
  { TABLE_NAME: 'bench', MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), CAPTURE_BUCKET: 'capture', CAPTURE_PERCENT: '20' },
  { getModel: async () => model, getVersion: async () => version },
  { getBytes: async () => readFileSync(archivePath), put: async () => undefined },
  logger,
);
const handle = createPredictHandler({ predictor, logger, metrics: new Metrics({ namespace: 'Bench', serviceName: 'predict' }) });
await handle({ instances: churnRows(1) }, { awsRequestId: 'cold' });
process.stdout.write(`${JSON.stringify({ importedMs, firstPredictionMs: performance.now() })}\n`);
