/**
 * A run's outputs: the terminal summary and a self-contained HTML report (inline CSS and SVG
 * charts, no scripts, no downloads) with the same figures, and the index page of a workspace's
 * runs. `npm start` writes them under the workspace's runs/ folder (local/workspace.ts).
 */
import { barChart, type Scale, scaleFromZero, spanningScale, zoomedScoreScale } from './charts';

export interface VersionSummary {
  readonly version: number;
  readonly stage: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly spotSavings?: number;
  readonly execution?: string;
  readonly note?: string;
  /** The version's model card (Markdown), relative to the report. */
  readonly card?: string;
}

export interface FeatureDrift {
  readonly feature: string;
  readonly psi: number | null;
  /**
   * The test behind `pValue`: Kolmogorov–Smirnov for a numeric feature, chi-square for a
   * categorical one; null when the feature could not be compared.
   */
  readonly test: 'KS' | 'chi-square' | null;
  readonly pValue: number | null;
  readonly js?: number | null;
  readonly drifted: boolean;
}

export interface DriftSummary {
  /** A short name of the window (`normal traffic`, `shifted traffic`). */
  readonly window: string;
  /** What the window held, for the captions (`15,000 rows of the population the model was trained on`). */
  readonly description: string;
  readonly verdict: string;
  readonly sampleSize?: number;
  readonly features: readonly FeatureDrift[];
  readonly psiWarn: number;
  readonly psiDrift: number;
}

export interface PipelineRunSummary {
  readonly execution: string;
  readonly purpose: string;
  readonly status: string;
  readonly durationMs: number;
  readonly transitions: number;
  readonly error?: string;
  readonly cause?: string;
  /** The files kept for the run in its report folder (validation report, quarantined rows), relative to the report. */
  readonly files?: readonly { readonly label: string; readonly path: string }[];
}

/** A batch inference run of the scenario, from its manifest. */
export interface BatchRunSummary {
  readonly execution: string;
  readonly status: string;
  readonly durationMs: number;
  readonly error?: string;
  readonly cause?: string;
  /** The version that scored, and the run's counts (absent when the run failed before its manifest). */
  readonly version?: number;
  readonly objects?: number;
  readonly rows?: number;
  readonly scoredRows?: number;
  readonly failedRows?: number;
  /** The scored rows' drift verdict against the training profile, and the drifted features. */
  readonly drift?: string;
  readonly driftedFeatures?: readonly string[];
  /** The run's cost as the manifest counts it. */
  readonly transitions?: number;
  readonly lambdaGbSeconds?: number;
  readonly dollars?: number;
  readonly manifestUri?: string;
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly model: string;
  readonly startedAt: Date;
  /** From the scenario's start to its report: the one duration the terminal and the page show. */
  readonly durationMs: number;
  readonly runs: readonly PipelineRunSummary[];
  readonly versions: readonly VersionSummary[];
  readonly drift: readonly DriftSummary[];
  readonly rollbacks: readonly { version: number; reason: string }[];
  /** Every prediction request this run sent (the canary traffic included) and the capture objects written. */
  readonly predictions: { readonly requests: number; readonly rows: number; readonly captureObjects: number };
  readonly notifications: readonly string[];
  /** Batch inference runs (the demo's weekly scoring). */
  readonly batch?: readonly BatchRunSummary[];
  /** The registry's changes as EventBridge received them (source cdk-mlops), oldest first. */
  readonly registryEvents?: readonly RegistryEventLine[];
}

/** One registry event in the report. */
export interface RegistryEventLine {
  readonly at: string;
  readonly detailType: string;
  readonly version?: number;
  readonly summary: string;
  readonly eventId: string;
}

/** One run in a workspace's index of runs. */
export interface RunIndexEntry {
  /** The run's folder under runs/. */
  readonly id: string;
  readonly scenario: string;
  readonly model: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly outcome: 'succeeded' | 'failed';
  /** One line: the pipeline runs and, for a failure, its reason. */
  readonly summary: string;
}

/** The metrics the summary shows, in this order, when versions have them. */
const SUMMARY_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'mae', 'rmse', 'r2', 'disparateImpact'];
/** Scores in [0, 1], charted on one zoomed scale. */
const SCORE_METRICS = new Set(['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'r2']);
/** Errors in the target's units, charted from 0. */
const ERROR_METRICS = new Set(['mae', 'rmse']);

const fixed = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '—' : value.toFixed(digits));
export const formatDuration = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const count = (value: number) => value.toLocaleString('en');

/** A batch run's sentence, word for word the same in the timeline, the summary and the page. */
export function batchLine(run: BatchRunSummary): string {
  if (run.status !== 'SUCCEEDED' || run.rows === undefined) {
    return `${run.execution} ${run.status.toLowerCase()}: ${run.error ?? ''} — ${run.cause ?? ''}`.slice(0, 400);
  }
  const drifted = run.driftedFeatures && run.driftedFeatures.length > 0 ? ` (drifted: ${run.driftedFeatures.join(', ')})` : '';
  return (
    `${count(run.scoredRows ?? 0)} rows scored by v${run.version}, ${count(run.failedRows ?? 0)} failed, ${count(run.objects ?? 0)} objects; ` +
    `drift of the scored rows: ${run.drift ?? 'not checked'}${drifted}; ` +
    `cost: ${count(run.transitions ?? 0)} state transitions, ${fixed(run.lambdaGbSeconds, 1)} Lambda GB-s ($${fixed(run.dollars, 4)})`
  );
}

/** The traffic sentence, word for word the same in the terminal and on the page. */
export function trafficLine(report: ScenarioReport): string {
  const { requests, rows, captureObjects } = report.predictions;
  return `${count(requests)} prediction requests (${count(rows)} rows); ${count(captureObjects)} capture objects written for drift detection`;
}

const outcomeOf = (run: PipelineRunSummary) =>
  run.status === 'SUCCEEDED' ? 'succeeded' : `${run.status.toLowerCase()}: ${run.error ?? ''}`;

/** The summary metrics some version has, in SUMMARY_METRICS order. */
function summaryMetricsOf(report: ScenarioReport): string[] {
  return SUMMARY_METRICS.filter((name) => report.versions.some((version) => version.metrics[name] !== undefined));
}

/** One row per version: number, stage, the given metrics, spot savings, note (text and HTML tables alike). */
function versionRows(report: ScenarioReport, metricNames: readonly string[]): string[][] {
  return report.versions.map((version) => [
    `v${version.version}`,
    version.stage,
    ...metricNames.map((name) => fixed(version.metrics[name])),
    version.spotSavings === undefined ? '—' : `${Math.round(version.spotSavings * 100)}%`,
    version.note ?? '',
  ]);
}

const DRIFT_HEADERS = ['feature', 'PSI', 'test', 'p-value', 'JS distance', 'drifted'];

/** One row per feature of a drift check: PSI, the test that fits its type and its p-value, JS distance, drifted. */
function driftRows(drift: DriftSummary): string[][] {
  return drift.features.map((feature) => [
    feature.feature,
    fixed(feature.psi),
    feature.test ?? '—',
    fixed(feature.pValue, 4),
    fixed(feature.js),
    feature.drifted ? 'yes' : '',
  ]);
}

const driftCaption = (drift: DriftSummary) => `${drift.window}: ${drift.description} — ${drift.verdict}`;

/** A plain-text table with aligned columns. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((width) => '─'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

export function summaryText(report: ScenarioReport): string {
  const sections: string[] = [];
  sections.push(
    table(
      ['run', 'purpose', 'outcome', 'time', 'transitions'],
      report.runs.map((run) => [run.execution, run.purpose, outcomeOf(run), formatDuration(run.durationMs), String(run.transitions)]),
    ),
  );
  for (const run of report.runs.filter((entry) => entry.status !== 'SUCCEEDED')) {
    sections.push(`Why ${run.execution} ${run.status.toLowerCase()}: ${run.error ?? 'unknown error'} — ${run.cause ?? 'no cause given'}`);
  }
  const metricNames = summaryMetricsOf(report);
  if (report.versions.length > 0) {
    sections.push(table(['version', 'stage', ...metricNames, 'spot savings', 'note'], versionRows(report, metricNames)));
  }
  for (const drift of report.drift) sections.push(`Drift, ${driftCaption(drift)}\n${table(DRIFT_HEADERS, driftRows(drift))}`);
  for (const rollback of report.rollbacks) sections.push(`Rolled back: v${rollback.version} — ${rollback.reason}`);
  for (const run of report.batch ?? []) sections.push(`Batch scoring, ${run.execution}: ${batchLine(run)}`);
  if (report.registryEvents && report.registryEvents.length > 0)
    sections.push(`Registry events: ${registryEventsLine(report.registryEvents)}`);
  sections.push(`Traffic: ${trafficLine(report)}`);
  sections.push(`Duration: ${formatDuration(report.durationMs)}`);
  return sections.join('\n\n');
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[], caption?: string): string {
  const captionHtml = caption ? `<caption>${escapeHtml(caption)}</caption>` : '';
  return `<table>${captionHtml}<thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** The metric charts: one per kind of scale (scores, errors, disparate impact), each on its own labelled axis. */
function metricCharts(report: ScenarioReport, metricNames: readonly string[]): string[] {
  const labels = report.versions.map((version) => `v${version.version} (${version.stage})`);
  const seriesOf = (names: readonly string[]) =>
    names.map((name) => ({ name, values: report.versions.map((version) => version.metrics[name] ?? null) }));
  const valuesOf = (names: readonly string[]) =>
    names
      .flatMap((name) => report.versions.map((version) => version.metrics[name]))
      .filter((value): value is number => value !== undefined);
  const charts: string[] = [];
  const chart = (
    title: string,
    names: readonly string[],
    scale: (values: number[]) => Scale,
    extra: Partial<Parameters<typeof barChart>[3]> = {},
  ) => {
    if (names.length === 0) return;
    charts.push(barChart(title, labels, seriesOf(names), { scale: scale(valuesOf(names)), ...extra }));
  };
  chart(
    'Holdout scores per version',
    metricNames.filter((name) => SCORE_METRICS.has(name)),
    (values) => zoomedScoreScale(values, 'score on the holdout (1 is perfect)'),
  );
  chart(
    'Holdout errors per version',
    metricNames.filter((name) => ERROR_METRICS.has(name)),
    (values) => scaleFromZero(values, "error on the holdout, in the target's units (0 is perfect)"),
  );
  chart(
    'Disparate impact per version',
    metricNames.filter((name) => name === 'disparateImpact'),
    (values) => spanningScale([...values, 0.8, 1.25], 'disparate impact (1 is parity; the four-fifths rule wants 0.8–1.25)'),
    {
      markers: [
        { value: 0.8, label: '0.8' },
        { value: 1.25, label: '1.25' },
      ],
    },
  );
  return charts;
}

/** Each failed run: its error, its cause (the reasons travel in it) and the files kept for it. */
function failuresHtml(report: ScenarioReport): string {
  const failed = report.runs.filter((run) => run.status !== 'SUCCEEDED');
  if (failed.length === 0) return '';
  const sections = failed.map((run) => {
    const files = (run.files ?? []).map((file) => `<li><a href="${escapeHtml(file.path)}">${escapeHtml(file.label)}</a></li>`).join('');
    return `<h3>${escapeHtml(run.execution)} (${escapeHtml(run.purpose)}): ${escapeHtml(run.error ?? 'unknown error')}</h3>
<pre class="cause">${escapeHtml(run.cause ?? 'no cause given')}</pre>${files ? `<ul>${files}</ul>` : ''}`;
  });
  return `<h2>Why runs failed</h2>\n${sections.join('\n')}`;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}h3{font-size:1rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;padding:.25rem 0}th{background:#f9fafb}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto}.label,.value,.tick,.marker-label{font-size:11px;fill:#374151}.axis-label{font-size:12px;fill:#111827}
.axis{stroke:#6b7280}.marker{stroke:#dc2626;stroke-dasharray:4 3}pre.cause{white-space:pre-wrap;background:#fef2f2;padding:.5rem;border-radius:4px}
.legend .key{margin-right:1rem;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.muted{color:#6b7280}`;

export function reportHtml(report: ScenarioReport): string {
  const metricNames = summaryMetricsOf(report);
  // One PSI scale for every window, so the normal and the shifted window compare at a glance.
  const psiScale = scaleFromZero(
    report.drift.flatMap((drift) => [...drift.features.map((feature) => feature.psi ?? 0), drift.psiWarn, drift.psiDrift]),
    'PSI, population stability index (0: the training distribution)',
  );
  const driftSections = report.drift.map(
    (drift) =>
      `${barChart(
        `PSI per feature — ${drift.window} (${drift.verdict})`,
        drift.features.map((feature) => feature.feature),
        [{ name: 'PSI', values: drift.features.map((feature) => feature.psi) }],
        {
          scale: psiScale,
          description: `${drift.description}; dashed lines: the warn (${drift.psiWarn}) and drift (${drift.psiDrift}) thresholds.`,
          markers: [
            { value: drift.psiWarn, label: 'warn' },
            { value: drift.psiDrift, label: 'drift' },
          ],
        },
      )}\n${htmlTable(DRIFT_HEADERS, driftRows(drift), `Drift statistics, ${driftCaption(drift)}`)}`,
  );
  const versions =
    report.versions.length === 0
      ? `<p>No version was registered${report.runs.some((run) => run.status !== 'SUCCEEDED') ? ': see why the runs failed above' : ''}.</p>`
      : `${htmlTable(['version', 'stage', ...metricNames, 'spot savings', 'note'], versionRows(report, metricNames))}\n${metricCharts(report, metricNames).join('\n')}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdk-mlops — ${escapeHtml(report.scenario)} report</title>
<style>
${STYLE}
</style></head><body>
<h1>cdk-mlops offline run: ${escapeHtml(report.scenario)}</h1>
<p class="muted">Model <b>${escapeHtml(report.model)}</b>, started ${escapeHtml(report.startedAt.toISOString())}, duration ${formatDuration(report.durationMs)}. The same state machine, handlers and model format as the deployed platform; S3 and DynamoDB were local emulators.</p>
<h2>Pipeline runs</h2>
${
  report.runs.length === 0
    ? '<p>No pipeline ran.</p>'
    : htmlTable(
        ['execution', 'purpose', 'outcome', 'duration', 'state transitions'],
        report.runs.map((run) => [run.execution, run.purpose, outcomeOf(run), formatDuration(run.durationMs), String(run.transitions)]),
      )
}
${failuresHtml(report)}
<h2>Versions</h2>
${versions}
<h2>Drift</h2>
${report.drift.length === 0 ? '<p>No drift check ran.</p>' : driftSections.join('\n')}
<p class="muted">p-values: Kolmogorov–Smirnov (KS) for numeric features, chi-square for categorical ones.</p>
<h2>Rollbacks</h2>
${
  report.rollbacks.length === 0
    ? '<p>None.</p>'
    : htmlTable(
        ['version', 'reason'],
        report.rollbacks.map((rollback) => [`v${rollback.version}`, rollback.reason]),
      )
}
<h2>Batch scoring</h2>
${
  !report.batch || report.batch.length === 0
    ? '<p>No batch run.</p>'
    : htmlTable(
        ['execution', 'outcome', 'duration', 'summary', 'manifest'],
        report.batch.map((run) => [
          run.execution,
          run.status === 'SUCCEEDED' ? 'succeeded' : `${run.status.toLowerCase()}: ${run.error ?? ''}`,
          formatDuration(run.durationMs),
          batchLine(run),
          run.manifestUri ?? '—',
        ]),
      )
}
<h2>Traffic</h2>
<p>${escapeHtml(trafficLine(report))}.</p>
<h2>Notifications</h2>
${report.notifications.length === 0 ? '<p>None.</p>' : `<ul>${report.notifications.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`}
<h2>Model cards</h2>
${
  report.versions.some((version) => version.card)
    ? `<ul>${report.versions
        .filter((version) => version.card)
        .map((version) => `<li><a href="${escapeHtml(version.card!)}">v${version.version} (${escapeHtml(version.stage)})</a></li>`)
        .join('')}</ul>`
    : '<p>None.</p>'
}
<h2>Registry events</h2>
${
  !report.registryEvents || report.registryEvents.length === 0
    ? '<p>None.</p>'
    : htmlTable(
        ['time', 'detail-type', 'version', 'change', 'event id'],
        report.registryEvents.map((event) => [
          event.at,
          event.detailType,
          event.version === undefined ? '' : `v${event.version}`,
          event.summary,
          event.eventId,
        ]),
        'Published to EventBridge with source cdk-mlops; deduplicate on detail.eventId',
      )
}
</body></html>
`;
}

/** The workspace's index of runs, newest first, each linking its report. */
export function runsIndexHtml(runs: readonly RunIndexEntry[]): string {
  const rows = [...runs]
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    .map(
      (run) =>
        `<tr><td><a href="${escapeHtml(run.id)}/index.html">${escapeHtml(run.id)}</a></td><td>${escapeHtml(run.scenario)}</td><td>${escapeHtml(run.model)}</td><td>${escapeHtml(run.startedAt)}</td><td>${formatDuration(run.durationMs)}</td><td>${escapeHtml(run.outcome)}</td><td>${escapeHtml(run.summary)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdk-mlops — offline runs</title>
<style>
${STYLE}
</style></head><body>
<h1>cdk-mlops offline runs</h1>
<table><thead><tr><th>run</th><th>scenario</th><th>model</th><th>started</th><th>duration</th><th>outcome</th><th>summary</th></tr></thead><tbody>${rows}</tbody></table>
</body></html>
`;
}

/** `12 published: 3 Model Version Registered, 2 Model Version Promoted, ...` */
export function registryEventsLine(events: readonly RegistryEventLine[]): string {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.detailType, (counts.get(event.detailType) ?? 0) + 1);
  return `${events.length} published: ${[...counts].map(([type, count]) => `${count} ${type}`).join(', ')}`;
}
