/**
 * training.trigger on-new-data, offline: a dataset version dropped into the datasets bucket (the
 * rows, then a _SUCCESS and a manifest.json, and duplicate deliveries of the marker's event) starts
 * exactly one run of the real pipeline on that version's prefix, which validates the rows only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../contracts/platform-config';
import { LOCAL_BUCKETS, type LocalExecution, LocalPlatform } from '../../local/runtime';
import { generateChurn, toCsv } from '../../local/sample-data';
import { cdkJsonContext } from '../support/cdk';

const raw = structuredClone(cdkJsonContext.mlops) as { models: Array<Record<string, unknown>> };
raw.models = raw.models.map((model) => ({ ...model, training: { ...(model.training as object), trigger: 'on-new-data' } }));

describe('a dataset drop on the offline runtime (training.trigger on-new-data)', () => {
  let platform: LocalPlatform;
  let execution: LocalExecution;

  beforeAll(async () => {
    platform = await LocalPlatform.start({ config: parseConfig(raw) });
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/v0002/rows.csv', toCsv(generateChurn({ rows: 5_000, seed: 3 })), 'text/csv');
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/v0002/_SUCCESS', '', 'application/octet-stream');
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/v0002/manifest.json', '{"files":["rows.csv"]}', 'application/json');
    // EventBridge delivers at least once: the marker's event again, twice at once.
    await Promise.all([
      platform.deliverObjectCreated(LOCAL_BUCKETS.datasets, 'churn/v0002/_SUCCESS'),
      platform.deliverObjectCreated(LOCAL_BUCKETS.datasets, 'churn/v0002/_SUCCESS'),
    ]);
    // The bucket's own events for the three puts arrive asynchronously: wait until all five deliveries are in.
    for (let attempt = 0; attempt < 200 && platform.newDataDeliveries.length < 5; attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const started = [...new Set(platform.executions.values())];
    expect(started).toHaveLength(1);
    execution = started[0]!;
    await execution.done;
  }, 240_000);
  afterAll(async () => platform?.stop());

  it('started one run on the version prefix; every other delivery was a duplicate or held by the cool-down', () => {
    const keys = platform.newDataDeliveries.map((delivery) => delivery.key);
    expect(keys.filter((key) => key === 'churn/v0002/_SUCCESS')).toHaveLength(3);
    expect(keys.filter((key) => key === 'churn/v0002/manifest.json')).toHaveLength(1);
    const outcomes = platform.newDataDeliveries.map((delivery) => (delivery.result.started ? 'started' : delivery.result.reason));
    expect(outcomes.filter((outcome) => outcome === 'started')).toHaveLength(1);
    expect(outcomes.every((outcome) => ['started', 'already-started', 'cooldown'].includes(outcome))).toBe(true);
    expect(platform.newDataDeliveries.some((delivery) => delivery.key.endsWith('rows.csv'))).toBe(false);
    expect(execution.input).toEqual({ datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/v0002/`, model: 'churn' });
  });

  it('validated and trained on the rows only (the markers are not data), and registered the version', async () => {
    expect(execution.status).toBe('SUCCEEDED');
    const version = await platform.registry.getVersion({ modelName: 'churn', version: 1 });
    expect(version.lineage.datasetUri).toBe(`s3://${LOCAL_BUCKETS.datasets}/churn/v0002/`);
    expect(
      version.lineage.split!.train.rows + version.lineage.split!.validation.rows + (version.lineage.split!.holdout?.rows ?? 0),
    ).toBeLessThanOrEqual(5_000);
  });
});
