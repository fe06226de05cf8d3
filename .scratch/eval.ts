import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';
import { LocalPlatform, LOCAL_BUCKETS } from '../local/runtime';
import { generateChurn, toCsv } from '../local/sample-data';
const config = parseConfig(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops);
const platform = await LocalPlatform.start({ config, onEvent: (e) => { if (e.kind==='note') console.log('  ', e.message.slice(0,160)); } });
try {
  await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/d.csv', toCsv(generateChurn({ rows: 20_000, seed: 1 })), 'text/csv');
  const ex = platform.startTraining('churn', { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/d.csv`, model: 'churn' }, 'dbg');
  const done = await ex.done;
  console.log(done.status, done.error, done.cause?.slice(0, 300));
  const keys = await platform.keysUnder(LOCAL_BUCKETS.artifacts, 'reports/');
  console.log(keys);
  for (const k of keys.filter(k=>k.includes('evaluation'))) console.log(JSON.stringify(JSON.parse(await platform.store.getText(LOCAL_BUCKETS.artifacts, k)).groups ?? JSON.parse(await platform.store.getText(LOCAL_BUCKETS.artifacts, k)), null, 1).slice(0, 3000));
} finally { await platform.stop(); }
