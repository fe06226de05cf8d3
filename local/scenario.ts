/**
 * The scenarios `npm start` runs on the offline runtime. `demo` is the lifecycle of the
 * requirements: generated churn data → training pipeline (validate → train on spot → evaluate →
 * register → shadow → canary deploy → promote) → predictions → a drifted traffic window → drift
 * detected → the retraining trigger → a second version, through its shadow and canary → a
 * candidate trained on a label-inverted export, which passes its evaluation gate but disagrees
 * with production on most live rows and is rejected in shadow before any caller saw its answers,
 * the production version serving throughout → the weekly batch scoring of this week's customers
 * by the production version, their drift checked in the same run. `train` runs the pipeline once on a dataset (the
 * generated one, or the user's file with `--data`).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { driftSettingsOf } from '../contracts/drift';
import type { ResolvedModelConfig } from '../contracts/platform-config';
import type { BatchSummary } from '../lambdas/batch-score/batch-job';
import type { DriftReport } from '../lambdas/check-drift/check-drift';
import { checkDrift, type DriftCheckResult } from '../lambdas/check-drift/check-drift';
import type { DriftVerdict } from '../lambdas/check-drift/verdict';
import { driftVerdictRequest } from '../lambdas/check-drift/verdict-record';
import { startRetraining } from '../lambdas/start-retraining/start-retraining';
import {
  type BatchRunSummary,
  batchLine,
  type DriftSummary,
  type PipelineRunSummary,
  type ScenarioReport,
  type VersionSummary,
} from './report';
import { LOCAL_BUCKETS, type LocalExecution, type LocalPlatform } from './runtime';
import { type ChurnCustomer, generateChurn, toCsv } from './sample-data';

export const SCENARIOS = ['demo', 'train', 'serve', 'drift'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface ScenarioOptions {
  readonly scenario: ScenarioName;
  /** A dataset file to train on instead of the generated data (its columns must be the model's). */
  readonly dataFile?: string;
  /** The CSV delimiter of `dataFile`, passed as the pipeline input's delimiter. */
  readonly delimiter?: string;
  /**
   * Appended to the execution names (`train-<runId>`): a workspace keeps earlier executions, and
   * Step Functions never reuses a name.
   */
  readonly runId?: string;
  readonly log: (line?: string) => void;
}

const HOUR_MS = 3_600_000;
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Request bodies of `rows` customers each, features only (what a client sends). */
function requestsOf(customers: readonly ChurnCustomer[], rowsPerRequest: number): { instances: Record<string, unknown>[] }[] {
  const bodies: { instances: Record<string, unknown>[] }[] = [];
  for (let start = 0; start < customers.length; start += rowsPerRequest) {
    bodies.push({
      instances: customers
        .slice(start, start + rowsPerRequest)
        .map(({ customer_id: _id, churned: _label, gender: _gender, ...features }) => features),
    });
  }
  return bodies;
}

export class ScenarioRunner {
  private readonly started = Date.now();
  private readonly runs: PipelineRunSummary[] = [];
  private readonly drift: DriftSummary[] = [];
  private readonly batch: BatchRunSummary[] = [];
  private readonly rollbacks: { version: number; reason: string }[] = [];
  private readonly notes = new Map<number, string>();
  /** Each version's model card, relative to the report (written by runFiles). */
  private readonly cards = new Map<number, string>();
  /** Per execution, the files kept for its report (validation report, quarantine, evaluation report). */
  private readonly files = new Map<string, { label: string; path: string }[]>();
  private requests = 0;
  private rows = 0;

  constructor(
    private readonly platform: LocalPlatform,
    private readonly model: ResolvedModelConfig,
    private readonly options: ScenarioOptions,
  ) {}

  private log(line = ''): void {
    this.options.log(line);
  }

  /** An execution name unique in the workspace. */
  private executionName(base: string): string {
    return this.options.runId ? `${base}-${this.options.runId}` : base;
  }

  private stamp(): string {
    return `[${seconds(Date.now() - this.started).padStart(7)}]`;
  }

  /** Uploads rows as dated shards under `<model>/<date>/` in the datasets bucket. */
  async upload(prefixDate: string, customers: readonly ChurnCustomer[], shards = 4): Promise<string> {
    const size = Math.ceil(customers.length / shards);
    for (let shard = 0; shard < shards; shard++) {
      const body = toCsv(customers.slice(shard * size, (shard + 1) * size));
      await this.platform.store.put(LOCAL_BUCKETS.datasets, `${this.model.name}/${prefixDate}/part-${shard}.csv`, body, 'text/csv');
    }
    const uri = `s3://${LOCAL_BUCKETS.datasets}/${this.model.name}/${prefixDate}/`;
    this.log(`${this.stamp()} dataset: ${customers.length.toLocaleString('en')} rows in ${shards} CSV shards → ${uri}`);
    return uri;
  }

  /** Starts a pipeline run and waits for it, printing each state as it ends. */
  async train(purpose: string, input: Record<string, unknown>, name: string, during?: (execution: LocalExecution) => Promise<void>) {
    this.log();
    this.log(`── ${purpose} — execution ${name}`);
    const execution = this.platform.startTraining(this.model.name, input, name);
    const background = during?.(execution);
    const finished = await execution.done;
    await background;
    const transitions = finished.states.length;
    const duration = (finished.stopDate ?? new Date()).getTime() - finished.startDate.getTime();
    this.runs.push({
      execution: name,
      purpose,
      status: finished.status,
      durationMs: duration,
      transitions,
      ...(finished.error ? { error: finished.error } : {}),
      ...(finished.cause ? { cause: finished.cause } : {}),
    });
    const outcome = finished.status === 'SUCCEEDED' ? 'succeeded' : `failed with ${finished.error}: ${finished.cause ?? ''}`.slice(0, 400);
    this.log(`   ⇒ ${outcome} (${seconds(duration)}, ${transitions} state transitions)`);
    return finished;
  }

  /** Sends prediction traffic through the predict function; returns the versions that answered. */
  async traffic(label: string, customers: readonly ChurnCustomer[], rowsPerRequest = 50): Promise<Map<number, number>> {
    const versions = new Map<number, number>();
    for (const body of requestsOf(customers, rowsPerRequest)) {
      const response = await this.platform.predict(this.model.name, body);
      versions.set(response.modelVersion, (versions.get(response.modelVersion) ?? 0) + 1);
      this.requests++;
      this.rows += body.instances.length;
    }
    await this.platform.flushCapture();
    const served = [...versions].map(([version, count]) => `v${version}: ${count}`).join(', ');
    this.log(
      `${this.stamp()} traffic, ${label}: ${customers.length.toLocaleString('en')} rows in ${Math.ceil(customers.length / rowsPerRequest)} requests (served by ${served})`,
    );
    return versions;
  }

  /** Runs check-drift over the capture written since `since`, as the schedule would. */
  async checkDrift(
    label: string,
    description: string,
    since: number,
  ): Promise<{ result: DriftCheckResult; verdict: DriftVerdict } | undefined> {
    const settings = driftSettingsOf(this.model);
    const outcome = await checkDrift(
      {
        // As the model's check-drift function: its calls are checked against its role when the runtime enforces IAM.
        store: this.platform.functionStore('check-drift', this.model.name),
        registry: this.platform.functionRegistryStore('check-drift', this.model.name),
        artifactsBucket: LOCAL_BUCKETS.artifacts,
        captureBucket: LOCAL_BUCKETS.capture,
      },
      settings,
      { model: this.model.name, windowStart: new Date(since).toISOString(), windowEnd: new Date(Date.now() + 1000).toISOString() },
    );
    if (!('sampleSize' in outcome.result) || !outcome.verdict) {
      this.log(
        `${this.stamp()} drift check, ${label}: ${outcome.result.status} — ${'message' in outcome.result ? outcome.result.message : ''}`,
      );
      return undefined;
    }
    const { result, verdict } = outcome;
    // As the function does: the verdict goes to the registry's audit trail (the drift history and its event).
    await this.platform.registry.recordDriftVerdict(driftVerdictRequest(result, `check-drift:${this.model.name}`));
    this.drift.push(this.driftSummary(label, `${description}; ${result.sampleSize.toLocaleString('en')} rows captured`, verdict));
    this.log(
      `${this.stamp()} drift check, ${label}: ${result.status} on ${result.sampleSize.toLocaleString('en')} captured rows` +
        (result.driftedFeatures.length > 0 ? ` — drifted: ${result.driftedFeatures.join(', ')}` : ''),
    );
    return { result, verdict };
  }

  /** A drift verdict as the report shows it: per feature, PSI, the test that fits its type and its p-value, JS distance. */
  private driftSummary(window: string, description: string, verdict: DriftVerdict): DriftSummary {
    return {
      window,
      description,
      verdict: verdict.status,
      sampleSize: verdict.sampleSize,
      psiWarn: this.model.drift.psiWarn,
      psiDrift: this.model.drift.psiDrift,
      features: verdict.features.map(({ name, comparison, status }) => ({
        feature: name,
        psi: comparison?.psi ?? null,
        // The test that fits the feature's type: KS for numeric features, chi-square for categorical ones.
        test: comparison === undefined ? null : comparison.kind === 'numeric' ? 'KS' : 'chi-square',
        pValue: comparison === undefined ? null : comparison.kind === 'numeric' ? comparison.ksPValue : comparison.chiSquarePValue,
        js: comparison?.js ?? null,
        drifted: status === 'drift',
      })),
    };
  }

  /**
   * The weekly batch scoring: this week's customers (unlabelled, in CSV objects under the datasets
   * bucket's `<model>/batch/<week>/`) scored by the production version in one run of the batch
   * pipeline, which checks their drift against the training profile; one timeline line from its manifest.
   */
  async batchScoring(week: string, objects = 3, rowsPerObject = 20_000): Promise<BatchRunSummary> {
    const model = this.model.name;
    const name = this.executionName(`batch-${week}`);
    this.log();
    this.log(`── Weekly batch scoring — execution ${name}`);
    const columns = ['customer_id', 'tenure_months', 'monthly_charges', 'total_spend', 'support_calls', 'segment', 'contract'] as const;
    for (let part = 0; part < objects; part++) {
      const customers = generateChurn({ rows: rowsPerObject, seed: 40 + part, drift: 1, firstId: 8_000_000 + part * rowsPerObject });
      await this.platform.store.put(
        LOCAL_BUCKETS.datasets,
        `${model}/batch/${week}/part-${part}.csv`,
        toCsv(customers, columns),
        'text/csv',
      );
    }
    const inputUri = `s3://${LOCAL_BUCKETS.datasets}/${model}/batch/${week}/`;
    this.log(`${this.stamp()} input: ${(objects * rowsPerObject).toLocaleString('en')} customers in ${objects} CSV objects → ${inputUri}`);
    const execution = this.platform.startBatch(
      model,
      { model, inputUri, outputUri: `s3://${LOCAL_BUCKETS.artifacts}/batch/${model}/${name}/`, rowIdColumn: 'customer_id' },
      name,
    );
    const finished = await execution.done;
    const durationMs = (finished.stopDate ?? new Date()).getTime() - finished.startDate.getTime();
    let run: BatchRunSummary = {
      execution: name,
      status: finished.status,
      durationMs,
      ...(finished.error ? { error: finished.error } : {}),
      ...(finished.cause ? { cause: finished.cause } : {}),
    };
    if (finished.status === 'SUCCEEDED') {
      const summary = finished.output as BatchSummary;
      const drift = (summary.drift as { result?: { status?: string; driftedFeatures?: string[]; reportUri?: string } } | null)?.result;
      run = {
        ...run,
        version: summary.version,
        objects: summary.objects,
        rows: summary.rows,
        scoredRows: summary.scoredRows,
        failedRows: summary.failedRows,
        ...(drift?.status ? { drift: drift.status } : {}),
        ...(drift?.driftedFeatures ? { driftedFeatures: drift.driftedFeatures } : {}),
        transitions: summary.cost.transitions,
        lambdaGbSeconds: summary.cost.lambdaGbSeconds,
        dollars: summary.cost.dollars,
        manifestUri: summary.manifestUri,
      };
      // The drift report the run's check wrote: its per-feature statistics go beside the traffic windows'.
      const location = drift?.reportUri ? /^s3:\/\/([^/]+)\/(.+)$/.exec(drift.reportUri) : null;
      if (location) {
        const report = JSON.parse(await this.platform.store.getText(location[1]!, location[2]!)) as DriftReport;
        this.drift.push(
          this.driftSummary(
            'batch input',
            `this week's ${summary.scoredRows.toLocaleString('en')} scored customers, by v${summary.version}`,
            report.verdict,
          ),
        );
      }
    }
    this.batch.push(run);
    this.log(`${this.stamp()} batch scoring: ${batchLine(run)} (${seconds(durationMs)})`);
    return run;
  }

  private async versions(): Promise<VersionSummary[]> {
    const listed = await this.platform.registry.listVersions({ modelName: this.model.name, limit: 100 });
    return listed.items
      .map((version) => ({
        version: version.version,
        stage: version.stage,
        metrics: version.metrics,
        ...(version.spotSavings === undefined ? {} : { spotSavings: version.spotSavings }),
        ...(version.lineage.trainingJobName ? { execution: version.lineage.trainingJobName } : {}),
        ...(this.notes.has(version.version) ? { note: this.notes.get(version.version)! } : {}),
        ...(this.cards.has(version.version) ? { card: this.cards.get(version.version)! } : {}),
      }))
      .sort((a, b) => a.version - b.version);
  }

  private async productionVersion(): Promise<number | undefined> {
    return (await this.platform.registry.getModel({ modelName: this.model.name })).productionVersion;
  }

  /** The demo scenario of the requirements. */
  async demo(): Promise<void> {
    const model = this.model.name;
    // 1. Initial training on generated data.
    const initialUri = await this.upload('2026-11-01', generateChurn({ rows: 20_000, seed: 1 }));
    const first = await this.train('Pipeline 1: initial training', { datasetUri: initialUri, model }, this.executionName('train-initial'));
    if (first.status !== 'SUCCEEDED') throw new Error(`the initial training failed: ${first.error}: ${first.cause}`);
    const v1 = (await this.productionVersion())!;
    this.notes.set(v1, 'initial model');

    // 2. Ordinary traffic, captured for drift detection.
    this.log();
    this.log('── Serving');
    const normalStart = Date.now();
    await this.traffic('normal population', generateChurn({ rows: 15_000, seed: 11, firstId: 1_000_000 }));
    await this.checkDrift('normal traffic', 'the population the model was trained on', normalStart);

    // 3. The population shifts: higher charges, more month-to-month contracts, more support calls.
    const driftStart = Date.now();
    await this.traffic('shifted population', generateChurn({ rows: 15_000, seed: 12, drift: 1, firstId: 2_000_000 }));
    const drifted = await this.checkDrift(
      'shifted traffic',
      'a shifted population: higher charges, more month-to-month contracts, more support calls',
      driftStart,
    );

    // 4. The DatasetDrift alarm fires; start-retraining picks the newest dataset prefix, once per cool-down.
    this.log();
    this.log('── Retraining trigger');
    const newUri = await this.upload('2026-11-15', generateChurn({ rows: 20_000, seed: 2, drift: 1, firstId: 3_000_000 }));
    let retrainName: string | undefined;
    if (drifted?.result.status === 'drift') {
      const transition = { alarmName: `${model}-DatasetDrift`, state: 'ALARM', transitionTime: new Date().toISOString() };
      const runs = {
        newestStart: async () => this.platform.newestExecutionStart(model),
        start: async (name: string, input: string) => {
          retrainName = name;
          return { alreadyExists: false, executionArn: name, input };
        },
      };
      const datasets = { keysUnder: (prefix: string) => this.platform.keysUnder(LOCAL_BUCKETS.datasets, prefix) };
      const settings = { model, datasetsBucket: LOCAL_BUCKETS.datasets, cooldownHours: this.model.drift.retrainCooldownHours };
      const now = Date.now();
      const blocked = await startRetraining(runs, datasets, settings, transition, now);
      this.log(
        `${this.stamp()} DatasetDrift alarm → start-retraining, right after the last run: ${blocked.started ? 'started' : blocked.reason} (${'message' in blocked ? blocked.message : ''})`,
      );
      const later = now + (this.model.drift.retrainCooldownHours + 1) * HOUR_MS;
      const started = await startRetraining(
        runs,
        datasets,
        settings,
        { ...transition, transitionTime: new Date(later).toISOString() },
        later,
      );
      this.log(
        `${this.stamp()} the alarm still firing ${this.model.drift.retrainCooldownHours + 1} h later (simulated clock) → ${started.started ? `started ${started.executionName} on ${started.datasetUri}` : started.reason}`,
      );
    } else {
      this.log(`${this.stamp()} no drift verdict, so no retraining (expected drift: check the drift settings)`);
    }
    if (retrainName) {
      // This run's spot capacity is reclaimed once mid-training; it resumes from its checkpoint.
      this.platform.simulateSpotInterruptions(model, 1);
      const second = await this.train(
        'Pipeline 2: retraining on the newest data',
        { datasetUri: newUri, model },
        retrainName,
        (execution) => this.trafficWhileDeploying(execution, 5),
      );
      const v2 = await this.productionVersion();
      if (second.status === 'SUCCEEDED' && v2 !== undefined) this.notes.set(v2, 'retrained after drift');
    }

    // 5. An export whose label column was inverted by a join bug: the candidate learns it, scores well
    // against a holdout of the same export, and disagrees with production on most live rows.
    this.log();
    this.log('── A label-inverted export');
    const inverted = generateChurn({ rows: 20_000, seed: 3, drift: 1, firstId: 6_000_000 }).map((customer) => ({
      ...customer,
      churned: customer.churned === 1 ? (0 as const) : (1 as const),
    }));
    const invertedUri = await this.upload('2026-11-08-export', inverted);
    await this.rejectedRollout(
      'Pipeline 3: a candidate trained on the label-inverted export',
      { datasetUri: invertedUri, model },
      this.executionName('train-inverted'),
      17,
      'rejected in shadow: disagrees with production',
    );

    await this.traffic('after the rejection', generateChurn({ rows: 2000, seed: 13, drift: 1, firstId: 4_000_000 }));

    // 6. The weekly batch scoring: every customer of the week scored by the production version at once.
    await this.batchScoring('2026-11-30');
  }

  /**
   * A pipeline run whose candidate the rollout should stop: traffic flows while it deploys, and a
   * rollback is recorded with the rollout's reason and what the callers were served meanwhile.
   */
  private async rejectedRollout(purpose: string, input: Record<string, unknown>, name: string, seed: number, note: string): Promise<void> {
    const before = await this.productionVersion();
    const served = new Map<number, number>();
    const run = await this.train(purpose, input, name, (execution) => this.trafficWhileDeploying(execution, seed, served));
    const after = await this.productionVersion();
    if (run.status === 'FAILED' && run.error === 'DeploymentRolledBack') {
      const latest = (await this.platform.registry.getModel({ modelName: this.model.name })).latestVersion!;
      this.rollbacks.push({ version: latest, reason: run.cause ?? 'rolled back' });
      this.notes.set(latest, note);
      const answered = [...served].map(([version, count]) => `v${version}: ${count}`).join(', ') || 'none';
      this.log(
        `   production stayed on v${after} (was v${before}); v${latest} was rejected automatically (requests answered meanwhile by ${answered})`,
      );
    }
  }

  /**
   * Keeps prediction traffic flowing while a pipeline is in its canary (as production would), so
   * the canary alarms have data; `seed` varies the rows.
   */
  private async trafficWhileDeploying(execution: LocalExecution, seed: number, served?: Map<number, number>): Promise<void> {
    let batch = 0;
    while (execution.status === 'RUNNING') {
      const current = execution.states.at(-1)?.name ?? '';
      if (['DeployVersion', 'DeploymentOutcome', 'WaitForDeployment', 'CheckDeployment'].includes(current)) {
        const customers = generateChurn({ rows: 500, seed: seed * 1000 + batch, drift: 1, firstId: 5_000_000 + batch * 500 });
        for (const body of requestsOf(customers, 25)) {
          const { modelVersion } = await this.platform.predict(this.model.name, body);
          served?.set(modelVersion, (served.get(modelVersion) ?? 0) + 1);
          this.requests++;
          this.rows += body.instances.length;
        }
        batch++;
      } else {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  }

  /** One training run on the given data (the user's file, or generated rows). */
  async trainOnce(): Promise<LocalExecution> {
    let uri: string;
    if (this.options.dataFile) {
      const body = readFileSync(this.options.dataFile);
      const key = `${this.model.name}/user/${path.basename(this.options.dataFile)}`;
      await this.platform.store.put(LOCAL_BUCKETS.datasets, key, body, 'application/octet-stream');
      uri = `s3://${LOCAL_BUCKETS.datasets}/${key}`;
      this.log(`${this.stamp()} dataset: ${this.options.dataFile} (${body.length.toLocaleString('en')} bytes) → ${uri}`);
    } else {
      uri = await this.upload('2026-11-01', generateChurn({ rows: 20_000, seed: 1 }));
    }
    const input = { datasetUri: uri, model: this.model.name, ...(this.options.delimiter ? { delimiter: this.options.delimiter } : {}) };
    // With a production version, the candidate's rollout may begin in shadow, which judges live
    // traffic: keep predictions flowing while it deploys, as production would.
    const live = (await this.productionVersion()) !== undefined;
    return this.train(
      'Training pipeline',
      input,
      this.executionName('train'),
      live ? (execution) => this.trafficWhileDeploying(execution, 21) : undefined,
    );
  }

  /** One drift check over the capture of the model's window (the last windowHours), as the schedule runs it. */
  async driftOnce(): Promise<void> {
    const hours = this.model.drift.windowHours;
    await this.checkDrift('captured traffic', `the predictions captured in the last ${hours} h`, Date.now() - hours * HOUR_MS);
  }

  /**
   * Copies what each run's pipeline left in the artifacts bucket for people to read — the
   * validation and evaluation reports and the quarantined rows — as files of the run's report
   * folder (`executions/<execution>/...`), and links them from the report.
   */
  async runFiles(): Promise<Record<string, Uint8Array>> {
    const files: Record<string, Uint8Array> = {};
    for (const run of this.runs) {
      const kept: { label: string; path: string }[] = [];
      for (const prefix of ['reports', 'quarantine']) {
        const base = `${prefix}/${this.model.name}/${run.execution}/`;
        for (const key of await this.platform.keysUnder(LOCAL_BUCKETS.artifacts, base)) {
          const relative = `executions/${run.execution}/${prefix}/${key.slice(base.length)}`;
          files[relative] = await this.platform.store.getBytes(LOCAL_BUCKETS.artifacts, key);
          kept.push({ label: `${prefix === 'quarantine' ? 'quarantined rows' : 'report'}: ${key.slice(base.length)}`, path: relative });
        }
      }
      this.files.set(run.execution, kept);
    }
    // Each version's card as the API serves it, kept in the artifacts bucket and copied beside the report.
    for (const { version } of (await this.platform.registry.listVersions({ modelName: this.model.name, limit: 100 })).items) {
      const stored = await this.platform.modelCard(this.model.name, version);
      const base = `cards/${this.model.name}-v${version}`;
      files[`${base}.md`] = Buffer.from(stored.markdown);
      files[`${base}.json`] = Buffer.from(`${JSON.stringify(stored.card, null, 2)}\n`);
      this.cards.set(version, `${base}.md`);
    }
    return files;
  }

  async report(): Promise<ScenarioReport> {
    await this.platform.registryEvents.pump();
    return {
      scenario: this.options.scenario,
      model: this.model.name,
      startedAt: new Date(this.started),
      durationMs: Date.now() - this.started,
      runs: this.runs.map((run) => {
        const files = this.files.get(run.execution);
        return files && files.length > 0 ? { ...run, files } : run;
      }),
      versions: await this.versions(),
      drift: this.drift,
      rollbacks: this.rollbacks,
      predictions: {
        requests: this.requests,
        rows: this.rows,
        captureObjects: (await this.platform.store.list(LOCAL_BUCKETS.capture, '')).length,
      },
      notifications: this.platform.notifications.map((notification) => notification.message),
      ...(this.batch.length > 0 ? { batch: this.batch } : {}),
      registryEvents: this.platform.registryEvents
        .of(this.model.name)
        .filter((entry) => entry.detail.at >= new Date(this.started).toISOString())
        .map(({ detailType, detail }) => ({
          at: detail.at,
          detailType,
          ...(detail.version === undefined ? {} : { version: detail.version }),
          summary: detail.reason ?? detail.action,
          eventId: detail.eventId,
        })),
    };
  }
}
