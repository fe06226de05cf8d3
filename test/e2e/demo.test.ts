/**
 * The offline runtime end to end: the demo scenario of `npm start` on s3rver and DynamoDB Local
 * with the real state machine and handlers, asserting the end state in the registry and the
 * stores; fault injection on the same runtime (a Lambda that throws once, a training job that
 * fails, a corrupt dataset); and the `mlops` CLI against the local API server.
 */
import { Parser, type ReadEntry } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as mlops } from '../../cli/mlops';
import type { ModelCard } from '../../contracts/model-card';
import { parseConfig } from '../../contracts/platform-config';
import { startApiServer } from '../../local/api-server';
import { OFFLINE_MS_PER_REQUEST, TrafficPacedClock } from '../../local/clock';
import { localBackend } from '../../local/local-backend';
import { reportHtml, type ScenarioReport } from '../../local/report';
import { LOCAL_BUCKETS, LocalPlatform, type TaskInput } from '../../local/runtime';
import { generateChurn, toCsv } from '../../local/sample-data';
import { ScenarioRunner } from '../../local/scenario';
import { synthesizePlatform } from '../iam/synth';
import { cdkJsonContext } from '../support/cdk';

const config = parseConfig(cdkJsonContext.mlops);

/** One file of a model.tar.gz, as text. */
async function fileInArchive(archive: Uint8Array, name: string): Promise<string> {
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      filter: (path) => path.replace(/^\.\//, '') === name,
      onReadEntry: (entry: ReadEntry) => entry.on('data', (chunk: Buffer) => chunks.push(chunk)),
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(Buffer.from(archive));
  });
  return Buffer.concat(chunks).toString('utf8');
}
const keys = async (platform: LocalPlatform, bucket: string, prefix: string) => platform.keysUnder(bucket, prefix);

describe('npm start: the demo lifecycle, offline', () => {
  let platform: LocalPlatform;
  let report: ScenarioReport;
  let runner: ScenarioRunner;
  // The rollouts' windows are judged on traffic-paced time, as npm start judges them.
  const clock = new TrafficPacedClock(OFFLINE_MS_PER_REQUEST);

  beforeAll(async () => {
    // As npm start runs it: every call checked against the synthesized stack's IAM.
    const { assemblyDirectory } = synthesizePlatform();
    platform = await LocalPlatform.start({
      config,
      deployed: { assemblyDirectory, stackName: 'mlops-dev' },
      clock,
    });
    runner = new ScenarioRunner(platform, platform.model('churn'), { scenario: 'demo', log: () => {} });
    await runner.demo();
    report = await runner.report();
  }, 180_000);
  afterAll(async () => platform?.stop());

  it('judges the rollouts on the traffic-paced clock: every request predict served moved it on by 25 ms', () => {
    expect(report.predictions.requests).toBeGreaterThan(600);
    expect(clock.aheadMs).toBe(OFFLINE_MS_PER_REQUEST * report.predictions.requests);
  });

  it('trains, retrains after drift through shadow and canary, and rejects a label-inverted candidate in shadow: v2 serves, v1 archived, v3 rejected', async () => {
    const model = await platform.registry.getModel({ modelName: 'churn' });
    expect(model).toMatchObject({ productionVersion: 2, latestVersion: 3 });
    const stages = (await platform.registry.listVersions({ modelName: 'churn', limit: 10 })).items.map((version) => [
      version.version,
      version.stage,
    ]);
    expect(stages.sort()).toEqual([
      [1, 'Archived'],
      [2, 'Production'],
      [3, 'Rejected'],
    ]);
    expect(report.runs.map((run) => [run.status, run.error])).toEqual([
      ['SUCCEEDED', undefined],
      ['SUCCEEDED', undefined],
      ['FAILED', 'DeploymentRolledBack'],
    ]);
    expect(report.runs[2]!.cause).toMatch(
      /shadow rejected before any caller saw it: agreement with production [\d.]+% \([\d,]+ of [\d,]+ rows\) is below the minimum 80%/,
    );
    expect(platform.notifications.map((notification) => notification.message).join('\n')).toContain('DeploymentRolledBack');
  });

  it('never lets a caller see a candidate in shadow: every request was answered by a production version, and the mirrors were scored by the candidates', async () => {
    const mirrored = platform.shadowRequests('churn');
    const byVersion = new Map<number, number>();
    for (const record of mirrored) byVersion.set(record.version, (byVersion.get(record.version) ?? 0) + 1);
    // v2 went through its shadow against v1; v3 was rejected there.
    expect([...byVersion.keys()].sort()).toEqual([2, 3]);
    for (const count of byVersion.values()) expect(count).toBeGreaterThanOrEqual(100);
    const agreement = (version: number) => {
      const records = mirrored.filter((record) => record.version === version);
      return (
        records.reduce((total, record) => total + record.agreeingRows, 0) /
        records.reduce((total, record) => total + record.comparedRows, 0)
      );
    };
    expect(agreement(2)).toBeGreaterThan(0.8);
    expect(agreement(3)).toBeLessThan(0.5);
    const events = (await platform.registry.listEvents({ modelName: 'churn', limit: 100 })).items;
    expect(events.filter((event) => event.action === 'rollout-phase').map((event) => event.version)).toEqual([2]);
    // v1 had no production version to shadow: straight to its canary; every later candidate began in shadow.
    const staged = events
      .filter((event) => event.toStage === 'Staging' && event.action === 'transition')
      .sort((a, b) => a.version! - b.version!);
    expect(staged.map((event) => [event.version, event.reason?.split(':')[0]])).toEqual([
      [1, 'canary'],
      [2, 'shadow'],
      [3, 'shadow'],
    ]);
  });

  it('records lineage, metrics and spot savings that pass the configured gate', async () => {
    const v1 = await platform.registry.getVersion({ modelName: 'churn', version: 1 });
    expect(v1.metrics.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(v1.metrics.f1).toBeGreaterThanOrEqual(0.8);
    expect(v1.metrics.disparateImpact).toBeGreaterThanOrEqual(0.8);
    // The offline job bills 30% of its whole seconds (a simulated 70% spot discount, rounded as SageMaker reports seconds).
    expect(v1.spotSavings).toBeGreaterThan(0.5);
    expect(v1.spotSavings).toBeLessThan(1);
    // 20,000 labelled rows split 70/10/20 per shard and per class: each part within a row per shard of its share.
    const split = v1.lineage.split!;
    expect(split.train.rows + split.validation.rows + (split.holdout?.rows ?? 0)).toBe(20_000);
    expect(Math.abs(split.train.rows - 14_000)).toBeLessThanOrEqual(8);
    expect(Math.abs(split.validation.rows - 2_000)).toBeLessThanOrEqual(8);
    expect(Math.abs((split.holdout?.rows ?? 0) - 4_000)).toBeLessThanOrEqual(8);
    expect(v1.metrics.holdoutRows).toBe(split.holdout?.rows ?? 0);
    expect(v1.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.lineage).toMatchObject({
      datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/2026-11-01/`,
      datasetEtag: expect.stringMatching(/^sha256:/),
      profileUri: `s3://${LOCAL_BUCKETS.artifacts}/profiles/churn/train-initial/profile.json`,
    });
    const v2 = await platform.registry.getVersion({ modelName: 'churn', version: 2 });
    expect(v2.lineage.datasetUri).toBe(`s3://${LOCAL_BUCKETS.datasets}/churn/2026-11-15/`);
  });

  it("flags predictions outside the production version's training ranges (from its artifact) and still answers them", async () => {
    const v2 = await platform.registry.getVersion({ modelName: 'churn', version: 2 });
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(v2.artifactUri)!;
    const schema = JSON.parse(await fileInArchive(await platform.store.getBytes(bucket!, key!), 'serving-schema.json'));
    // Measured on v2's training split, over the shards of its dataset.
    expect(Object.keys(schema.trainingRanges).sort()).toEqual(
      ['contract', 'monthly_charges', 'segment', 'support_calls', 'tenure_months', 'total_spend'].sort(),
    );
    const { tenure_months: tenure, monthly_charges: charges } = schema.trainingRanges;
    const [row] = generateChurn({ rows: 1, seed: 9 });
    const inside = {
      ...row!,
      tenure_months: tenure.max,
      monthly_charges: charges.min,
      total_spend: schema.trainingRanges.total_spend.min,
      support_calls: schema.trainingRanges.support_calls.min,
      segment: schema.trainingRanges.segment.values[0],
      contract: schema.trainingRanges.contract.values[0],
    };
    const response = await platform.predict('churn', { instances: [inside, { ...inside, tenure_months: -50, monthly_charges: 1e9 }] });
    expect(response.modelVersion).toBe(2);
    expect(response.predictions.map((prediction) => prediction.outOfRange)).toEqual([undefined, ['tenure_months', 'monthly_charges']]);
    expect('probabilities' in response.predictions[1]!).toBe(true);
  });

  it('resumes the retraining job from its checkpoint after the spot interruption (a SIGTERM to the training program)', async () => {
    const v2 = await platform.registry.getVersion({ modelName: 'churn', version: 2 });
    const [, bucket, key] = /^s3:\/\/([^/]+)\/(.+)$/.exec(v2.artifactUri)!;
    const metrics = JSON.parse(await fileInArchive(await platform.store.getBytes(bucket!, key!), 'metrics.json'));
    expect(metrics.resumedFromEpoch).toBeGreaterThanOrEqual(5);
    expect(metrics.epochsCompleted).toBe(metrics.epochs);
    const v1 = await platform.registry.getVersion({ modelName: 'churn', version: 1 });
    const [, bucket1, key1] = /^s3:\/\/([^/]+)\/(.+)$/.exec(v1.artifactUri)!;
    expect(JSON.parse(await fileInArchive(await platform.store.getBytes(bucket1!, key1!), 'metrics.json')).resumedFromEpoch).toBe(0);
  });

  it('finds no drift in ordinary traffic and drift in the shifted window', () => {
    expect(report.drift.slice(0, 2).map((drift) => [drift.window, drift.verdict])).toEqual([
      ['normal traffic', 'no-drift'],
      ['shifted traffic', 'drift'],
    ]);
    const shifted = report.drift[1]!.features.filter((feature) => feature.drifted).map((feature) => feature.feature);
    expect(shifted).toEqual(expect.arrayContaining(['monthly_charges', 'contract', 'support_calls']));
    expect(shifted).not.toContain('segment');
  });

  it('leaves the artifacts in the stores: models, profiles, reports, capture', async () => {
    const models = await keys(platform, LOCAL_BUCKETS.artifacts, 'models/churn/');
    expect(models.filter((key) => key.endsWith('/output/model.tar.gz'))).toHaveLength(3);
    const reports = await keys(platform, LOCAL_BUCKETS.artifacts, 'reports/churn/');
    expect(reports.filter((key) => key.endsWith('evaluation-report.json'))).toHaveLength(3);
    expect(reports.filter((key) => key.endsWith('validation-report.json')).length).toBeGreaterThanOrEqual(3);
    // Two traffic windows and the batch run's scored rows.
    expect(reports.filter((key) => key.endsWith('drift-report.json'))).toHaveLength(3);
    expect((await keys(platform, LOCAL_BUCKETS.capture, '')).length).toBeGreaterThan(0);
    expect(report.predictions.captureObjects).toBeGreaterThan(0);
  });

  it("writes a card for each of the demo's versions, from the evidence, and the report links them and lists the registry events", async () => {
    const files = await runner.runFiles();
    const cards = [1, 2, 3].map((version) => JSON.parse(new TextDecoder().decode(files[`cards/churn-v${version}.json`])) as ModelCard);
    expect(cards.map((card) => card.stage)).toEqual(['Archived', 'Production', 'Rejected']);
    // v1 served both drift windows; v2 was compared with v1 as champion; every card has its holdout and lineage.
    expect(cards[0]!.drift.map((entry) => entry.status)).toEqual(['no-drift', 'drift']);
    expect(cards[1]!.champion?.version).toBe(1);
    // v2 served no drift window; the weekly batch it scored was checked against its training profile.
    expect(cards[1]!.drift.map((entry) => entry.status)).toEqual([report.batch![0]!.drift]);
    for (const card of cards) {
      expect(card.evaluation.holdoutRows).toBeGreaterThan(0);
      expect(card.lineage.datasetEtag).not.toBe('');
      expect(card.profile?.rows).toBeGreaterThan(0);
      expect(card.fairness?.disparateImpact?.value).toEqual(expect.any(Number));
    }
    expect(cards[0]!.rollout.map((phase) => phase.change)).toContainEqual(expect.stringMatching(/→ Archived$/));
    const final = await runner.report();
    expect(final.versions.map((version) => version.card)).toEqual(['cards/churn-v1.md', 'cards/churn-v2.md', 'cards/churn-v3.md']);
    expect(reportHtml(final)).toContain('<a href="cards/churn-v2.md">');
    const types = (final.registryEvents ?? []).map((event) => event.detailType);
    expect(types.filter((type) => type === 'Model Version Registered')).toHaveLength(3);
    expect(types.filter((type) => type === 'Model Drift Verdict')).toHaveLength(3);
    expect(types).toContain('Model Version Stage Changed');
    expect(cards[2]!.rollout.map((phase) => phase.change)).toContainEqual(expect.stringMatching(/→ Rejected$/));
  });

  it("scores the week's 60,000 customers in one batch run with the production version: scored objects, the manifest, the drift of the scored rows", async () => {
    expect(report.batch).toHaveLength(1);
    const batch = report.batch![0]!;
    expect(batch).toMatchObject({ status: 'SUCCEEDED', version: 2, objects: 3, rows: 60_000, scoredRows: 60_000, failedRows: 0 });
    // The week's customers come from the population v2 was trained on.
    expect(batch.drift).toBe('no-drift');
    expect(report.drift.at(-1)).toMatchObject({ window: 'batch input', verdict: batch.drift, sampleSize: 30_000 });
    // Cost: the parent's 9 Standard transitions and one per child execution, and the objects' scoring time at 2 GB.
    expect(batch.transitions).toBe(12);
    expect(batch.lambdaGbSeconds).toBeGreaterThan(0);
    const outputs = await keys(platform, LOCAL_BUCKETS.artifacts, `batch/churn/${batch.execution}/`);
    expect(outputs.sort()).toEqual(
      ['_manifest.json', 'part-0.scored.csv', 'part-1.scored.csv', 'part-2.scored.csv'].map(
        (name) => `batch/churn/${batch.execution}/${name}`,
      ),
    );
    const manifest = JSON.parse(await platform.store.getText(LOCAL_BUCKETS.artifacts, `batch/churn/${batch.execution}/_manifest.json`));
    expect(manifest).toMatchObject({ scoredRows: 60_000, version: 2, manifestUri: batch.manifestUri });
    const scored = (await platform.store.getText(LOCAL_BUCKETS.artifacts, `batch/churn/${batch.execution}/part-2.scored.csv`)).split('\n');
    expect(scored[0]).toBe('row_id,model_version,prediction,probability_0,probability_1');
    expect(scored[1]).toMatch(/^C\d+,2,[01],/);
    // The batch run is its own state machine's execution, not a training run.
    expect(platform.execution(batch.execution).executionArn).toContain(':execution:local-churn-batch:');
    expect(reportHtml(report)).toContain('<h2>Batch scoring</h2>');
  });

  it('writes a report page with the versions, drift and the rejection', () => {
    const html = reportHtml(report);
    expect(html).toContain('rejected in shadow: disagrees with production');
    expect(html).toContain('PSI per feature — shifted traffic (drift)');
  });
});

describe('fault injection on the offline runtime', () => {
  let platform: LocalPlatform;
  const calls: Record<string, number> = {};
  const faults = new Set<string>();

  beforeAll(async () => {
    platform = await LocalPlatform.start({
      config,
      clock: new TrafficPacedClock(OFFLINE_MS_PER_REQUEST),
      wrapTask: (state, handler) => async (input: TaskInput) => {
        calls[state] = (calls[state] ?? 0) + 1;
        if (faults.has(`${state}:once`)) {
          faults.delete(`${state}:once`);
          throw Object.assign(new Error('Rate exceeded'), { name: 'Lambda.TooManyRequestsException' });
        }
        if (faults.has(`${state}:fail`)) {
          throw Object.assign(new Error('AlgorithmError: the training container exited with code 137 (out of memory)'), {
            name: 'States.TaskFailed',
          });
        }
        return handler(input);
      },
    });
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/clean.csv', toCsv(generateChurn({ rows: 3000, seed: 5 })), 'text/csv');
  }, 60_000);
  afterAll(async () => platform?.stop());

  it('retries a Lambda task that throws once and carries on', async () => {
    faults.add('EvaluateModel:once');
    const execution = await platform.startTraining('churn', { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/clean.csv` }, 'fault-retry')
      .done;
    expect(execution.status).toBe('SUCCEEDED');
    expect(calls.EvaluateModel).toBe(2);
    expect((await platform.registry.getModel({ modelName: 'churn' })).productionVersion).toBe(1);
  }, 60_000);

  it('catches a failed training job: recorded in the registry, notified, no version registered', async () => {
    faults.add('TrainOnSpot:fail');
    const execution = await platform.startTraining('churn', { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/clean.csv` }, 'fault-train')
      .done;
    faults.delete('TrainOnSpot:fail');
    expect(execution).toMatchObject({ status: 'FAILED', error: 'States.TaskFailed' });
    expect(execution.cause).toContain('exited with code 137');
    expect((await platform.registry.getModel({ modelName: 'churn' })).latestVersion).toBe(1);
    const events = await platform.registry.listEvents({ modelName: 'churn', limit: 20 });
    expect(events.items.some((event) => JSON.stringify(event).includes('fault-train'))).toBe(true);
    expect(platform.notifications.at(-1)!.message).toMatch(/fault-train failed in (TrainOnSpot|TrainModel|Train)/);
  }, 60_000);

  it('stops a corrupt dataset at validation, quarantines its rows and trains nothing', async () => {
    const rows = toCsv(generateChurn({ rows: 400, seed: 6 }))
      .split('\n')
      .map((line, index) => (index > 0 && index % 3 === 0 ? line.replace(/^([^,]*),\d+,/, '$1,twelve,') : line))
      .join('\n');
    await platform.store.put(LOCAL_BUCKETS.datasets, 'churn/corrupt.csv', rows, 'text/csv');
    const before = calls.TrainOnSpot ?? 0;
    const execution = await platform.startTraining(
      'churn',
      { datasetUri: `s3://${LOCAL_BUCKETS.datasets}/churn/corrupt.csv` },
      'fault-data',
    ).done;
    expect(execution).toMatchObject({ status: 'FAILED', error: 'DatasetInvalid' });
    expect(execution.cause).toContain('validation-report.json');
    expect(calls.TrainOnSpot ?? 0).toBe(before);
    const quarantine = await keys(platform, LOCAL_BUCKETS.artifacts, 'quarantine/churn/fault-data/');
    expect(quarantine).toHaveLength(1);
    expect((await platform.store.getText(LOCAL_BUCKETS.artifacts, quarantine[0]!)).split('\n').filter(Boolean).length).toBe(133);
    // The reason travels: the failed rules with counts and examples, in the API's status and `mlops status`.
    const server = await startApiServer(localBackend(platform), { actor: 'e2e' });
    try {
      let stdout = '';
      const io = {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: () => {},
        env: {},
        readFile: () => '',
        sleep: async () => {},
      };
      expect(await mlops(['--api', server.url, 'status', execution.executionArn], io)).toBe(3);
      expect(stdout).toMatch(
        /^reason: +Dataset s3:\/\/local-datasets\/churn\/corrupt\.csv failed validation: maxBadRowFraction: allows at most [\d.]+% bad rows, has 33\.25% \(133 of 400\);\n {12}[^\n]*;\n {12}tenure_months type: values must be whole numbers in 133 rows \(e\.g\. row 3: "twelve"; row 6: "twelve"\)/m,
      );
    } finally {
      await server.close();
    }
  }, 60_000);

  it('serves the API routes locally, so the mlops CLI trains, follows and lists against the runtime', async () => {
    const server = await startApiServer(localBackend(platform), { actor: 'e2e' });
    try {
      let stdout = '';
      const io = {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: () => {},
        env: {},
        readFile: () => '',
        sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, Math.min(ms, 200))),
      };
      // The model has a production version, so the candidate begins in shadow, judged on live
      // traffic: callers keep predicting while the CLI waits.
      let training = true;
      const traffic = (async () => {
        for (let batch = 0; training; batch++) {
          const rows = generateChurn({ rows: 25, seed: 900 + batch, firstId: 9_000_000 + batch * 25 });
          await platform.predict('churn', {
            instances: rows.map(({ customer_id: _id, churned: _label, gender: _gender, ...features }) => features),
          });
        }
      })();
      const trained = await mlops(
        ['--api', server.url, 'train', '--model', 'churn', '--data', `s3://${LOCAL_BUCKETS.datasets}/churn/clean.csv`, '--wait'],
        io,
      ).finally(() => {
        training = false;
      });
      await traffic;
      expect(trained, stdout).toBe(0);
      expect(stdout).toContain('PromoteVersion');
      stdout = '';
      expect(await mlops(['--api', server.url, '--json', 'models', 'churn'], io)).toBe(0);
      expect(JSON.parse(stdout)).toMatchObject({ modelName: 'churn', productionVersion: 2 });
    } finally {
      await server.close();
    }
  }, 90_000);
});
