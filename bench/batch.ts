/**
 * Batch scoring benchmark: the same churn model and 200,000 rows, in one run, through
 *   ours — the batch-score core (lambdas/batch-score/batch-score.ts): a CSV object parsed, typed by
 *          the schema, scored in chunks of 5,000 rows on one ONNX session, written as CSV with the
 *          row id, version and prediction, plus the capture records for the drift check;
 *   peer — the predict API path a user without batch scoring would loop over: the predict handler,
 *          warm and in-process, 100 rows per request, with the request body parsed from and the
 *          answer serialised to JSON as API Gateway's proxy integration does (no network, no
 *          API Gateway or Lambda invoke overhead: the peer's figure is its best case).
 * Prints rows/s for both and the JSON summary last (ratio = ours / peer).
 * Usage: npx tsx bench/batch.ts
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { rowsFromCsv, scoreRows } from '../lambdas/batch-score/batch-score';
import { createPredictHandler, predictorFromEnvironment } from '../lambdas/predict/predict';
import { Registry } from '../lambdas/shared/registry/registry-service';
import { OnnxScorer } from '../lambdas/shared/serving/onnx-scorer';
import { CHURN_SCHEMA, churnModelBytes, churnRows } from '../testkit/churn-model';
import { InMemoryRegistryStore } from '../testkit/in-memory-registry-store';
import { packModelArchive, sha256Hex } from '../testkit/onnx-model';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
const ROWS = 200_000;
const REQUEST_ROWS = 100;

const rows = churnRows(ROWS, 11);
const csv = [
  'customer_id,tenure_months,monthly_charges,contract,auto_pay',
  ...rows.map((row, index) => `c-${index},${row.tenure_months},${row.monthly_charges},${row.contract},${row.auto_pay ?? ''}`),
].join('\n');

// Ours: the batch core, one object.
const scorer = await OnnxScorer.create(churnModelBytes());
const batchStart = performance.now();
const { rows: parsed } = rowsFromCsv(CHURN_SCHEMA, csv, { rowIdColumn: 'customer_id' });
const result = await scoreRows({ schema: CHURN_SCHEMA, scorer, modelVersion: 1, format: 'csv', runId: 'bench' }, parsed);
const batchSeconds = (performance.now() - batchStart) / 1000;
if (result.scoredRows !== ROWS) throw new Error(`scored ${result.scoredRows} of ${ROWS} rows`);

// Peer: the predict handler, 100 rows per request.
const archive = await packModelArchive(churnModelBytes());
const store = new InMemoryRegistryStore();
const registry = new Registry(store, { knownModels: ['churn'] });
await registry.registerVersion({
  modelName: 'churn',
  artifactUri: 's3://artifacts/models/churn/v1/model.tar.gz',
  artifactSha256: sha256Hex(archive),
  lineage: { datasetUri: 's3://datasets/churn.csv', datasetEtag: '"1"' },
  actor: 'bench',
});
await registry.promote({ modelName: 'churn', version: 1, actor: 'bench' });
const logger = new Logger({ logLevel: 'SILENT' });
const metrics = new Metrics({ namespace: 'Bench' });
const predictor = predictorFromEnvironment(
  { TABLE_NAME: 'bench', MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), CAPTURE_PERCENT: '0' },
  store,
  { getBytes: async () => archive, put: async () => undefined },
  logger,
);
const handle = createPredictHandler({ predictor, logger, metrics });
await handle({ instances: rows.slice(0, REQUEST_ROWS) }, { awsRequestId: 'warm' });
const predictStart = performance.now();
for (let start = 0; start < ROWS; start += REQUEST_ROWS) {
  const body = JSON.parse(JSON.stringify({ instances: rows.slice(start, start + REQUEST_ROWS) }));
  JSON.stringify(await handle(body, { awsRequestId: `r-${start}` }));
}
const predictSeconds = (performance.now() - predictStart) / 1000;

const ours = Math.round(ROWS / batchSeconds);
const peer = Math.round(ROWS / predictSeconds);
console.log(
  `batch core, 1 CSV object of ${ROWS.toLocaleString('en')} rows: ${ours.toLocaleString('en')} rows/s (${batchSeconds.toFixed(2)} s)`,
);
console.log(
  `predict handler, ${REQUEST_ROWS} rows per request, in-process with JSON in and out: ${peer.toLocaleString('en')} rows/s (${predictSeconds.toFixed(2)} s)`,
);
console.log(JSON.stringify({ rows: ROWS, batch_rows_per_s: ours, predict_rows_per_s: peer, ratio: Math.round((ours / peer) * 100) / 100 }));
