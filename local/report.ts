/**
 * The demo's outputs: the terminal summary table and a self-contained HTML report (inline CSS
 * and SVG charts, no scripts, no downloads) written to ./mlops-report/index.html.
 */

export interface VersionSummary {
  readonly version: number;
  readonly stage: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly spotSavings?: number;
  readonly execution?: string;
  readonly note?: string;
}

export interface FeatureDrift {
  readonly feature: string;
  readonly psi: number | null;
  readonly ksPValue?: number | null;
  readonly js?: number | null;
  readonly drifted: boolean;
}

export interface DriftSummary {
  readonly window: string;
  readonly verdict: string;
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
}

export interface ScenarioReport {
  readonly scenario: string;
  readonly model: string;
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly runs: readonly PipelineRunSummary[];
  readonly versions: readonly VersionSummary[];
  readonly drift: readonly DriftSummary[];
  readonly rollbacks: readonly { version: number; reason: string }[];
  readonly predictions: { readonly requests: number; readonly rows: number; readonly captureObjects: number };
  readonly notifications: readonly string[];
}

/** The metrics the summary shows, in this order, when versions have them. */
const SUMMARY_METRICS = ['accuracy', 'precision', 'recall', 'f1', 'rocAuc', 'mae', 'rmse', 'r2', 'disparateImpact'];

const fixed = (value: number | null | undefined, digits = 3) => (value === null || value === undefined ? '—' : value.toFixed(digits));

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

/** One row per feature of a drift check: PSI, KS (or χ²) p-value, JS distance, drifted. */
function driftRows(drift: DriftSummary): string[][] {
  return drift.features.map((feature) => [
    feature.feature,
    fixed(feature.psi),
    fixed(feature.ksPValue, 4),
    fixed(feature.js),
    feature.drifted ? 'yes' : '',
  ]);
}

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
      report.runs.map((run) => [
        run.execution,
        run.purpose,
        run.status === 'SUCCEEDED' ? 'succeeded' : `failed: ${run.error ?? ''}`,
        `${(run.durationMs / 1000).toFixed(1)} s`,
        String(run.transitions),
      ]),
    ),
  );
  const metricNames = summaryMetricsOf(report);
  sections.push(table(['version', 'stage', ...metricNames, 'spot savings', 'note'], versionRows(report, metricNames)));
  for (const drift of report.drift) {
    sections.push(`Drift, ${drift.window}: ${drift.verdict}\n${table(['feature', 'PSI', 'KS p', 'JS', 'drifted'], driftRows(drift))}`);
  }
  for (const rollback of report.rollbacks) sections.push(`Rolled back: v${rollback.version} — ${rollback.reason}`);
  return sections.join('\n\n');
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Horizontal bars, one group per label, one bar per series; values in [0, max]. */
function barChart(
  title: string,
  labels: readonly string[],
  series: readonly { name: string; values: readonly (number | null)[] }[],
  options: { max?: number; markers?: readonly { value: number; label: string }[] } = {},
): string {
  const colours = ['#2563eb', '#16a34a', '#d97706', '#9333ea', '#dc2626', '#0891b2'];
  const all = series.flatMap((entry) => entry.values).filter((value): value is number => value !== null);
  const max = options.max ?? Math.max(1e-9, ...all, ...(options.markers ?? []).map((marker) => marker.value)) * 1.1;
  const barHeight = 14;
  const groupHeight = series.length * barHeight + 10;
  const left = 150;
  const width = 460;
  const height = labels.length * groupHeight + 40;
  const parts: string[] = [`<svg viewBox="0 0 ${left + width + 70} ${height}" role="img" aria-label="${escapeHtml(title)}">`];
  labels.forEach((label, group) => {
    const y = 20 + group * groupHeight;
    parts.push(`<text x="${left - 8}" y="${y + groupHeight / 2}" text-anchor="end" class="label">${escapeHtml(label)}</text>`);
    series.forEach((entry, index) => {
      const value = entry.values[group];
      if (value === null || value === undefined) return;
      const barWidth = Math.max(1, (Math.min(value, max) / max) * width);
      const barY = y + index * barHeight;
      parts.push(
        `<rect x="${left}" y="${barY}" width="${barWidth.toFixed(1)}" height="${barHeight - 3}" fill="${colours[index % colours.length]}"/>`,
      );
      parts.push(`<text x="${left + barWidth + 4}" y="${barY + barHeight - 4}" class="value">${value.toFixed(3)}</text>`);
    });
  });
  for (const marker of options.markers ?? []) {
    const x = left + (marker.value / max) * width;
    parts.push(`<line x1="${x}" x2="${x}" y1="12" y2="${height - 20}" class="marker"/>`);
    parts.push(`<text x="${x + 3}" y="${height - 8}" class="marker-label">${escapeHtml(marker.label)}</text>`);
  }
  parts.push('</svg>');
  const legend = series
    .map(
      (entry, index) => `<span class="key"><i style="background:${colours[index % colours.length]}"></i>${escapeHtml(entry.name)}</span>`,
    )
    .join(' ');
  return `<figure><figcaption>${escapeHtml(title)}</figcaption>${parts.join('')}<div class="legend">${legend}</div></figure>`;
}

function htmlTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><thead><tr>${headers.map((header) => `<th>${escapeHtml(header)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

export function reportHtml(report: ScenarioReport): string {
  const metricNames = summaryMetricsOf(report);
  const versionLabels = report.versions.map((version) => `v${version.version} (${version.stage})`);
  const metricsChart = barChart(
    'Evaluation metrics per version',
    versionLabels,
    metricNames.map((name) => ({ name, values: report.versions.map((version) => version.metrics[name] ?? null) })),
    { max: Math.max(1.3, ...report.versions.map((version) => version.metrics.disparateImpact ?? 0)) },
  );
  const driftCharts = report.drift.map((drift) =>
    barChart(
      `PSI per feature — ${drift.window} (${drift.verdict})`,
      drift.features.map((feature) => feature.feature),
      [{ name: 'PSI', values: drift.features.map((feature) => feature.psi) }],
      {
        markers: [
          { value: drift.psiWarn, label: 'warn' },
          { value: drift.psiDrift, label: 'drift' },
        ],
      },
    ),
  );
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cdk-mlops — ${escapeHtml(report.scenario)} report</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:960px;color:#111827;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border-bottom:1px solid #e5e7eb;padding:.3rem .5rem;text-align:left;font-variant-numeric:tabular-nums}
th{background:#f9fafb}figure{margin:1rem 0}figcaption{font-weight:600;margin-bottom:.25rem}
svg{width:100%;height:auto}.label,.value,.marker-label{font-size:11px;fill:#374151}.marker{stroke:#dc2626;stroke-dasharray:4 3}
.legend .key{margin-right:1rem;font-size:12px}.legend i{display:inline-block;width:10px;height:10px;margin-right:4px}
.muted{color:#6b7280}
</style></head><body>
<h1>cdk-mlops offline run: ${escapeHtml(report.scenario)}</h1>
<p class="muted">Model <b>${escapeHtml(report.model)}</b>, started ${escapeHtml(report.startedAt.toISOString())}, ${(report.durationMs / 1000).toFixed(1)} s. The same state machine, handlers and model format as the deployed platform; S3 and DynamoDB were local emulators.</p>
<h2>Pipeline runs</h2>
${htmlTable(
  ['execution', 'purpose', 'outcome', 'duration', 'state transitions'],
  report.runs.map((run) => [
    run.execution,
    run.purpose,
    run.status === 'SUCCEEDED' ? 'succeeded' : `failed: ${run.error ?? ''} — ${run.cause ?? ''}`,
    `${(run.durationMs / 1000).toFixed(1)} s`,
    String(run.transitions),
  ]),
)}
<h2>Versions</h2>
${htmlTable(['version', 'stage', ...metricNames, 'spot savings', 'note'], versionRows(report, metricNames))}
${metricsChart}
<h2>Drift</h2>
${report.drift.length === 0 ? '<p>No drift check ran.</p>' : driftCharts.join('\n')}
${report.drift.map((drift) => htmlTable(['feature', 'PSI', 'KS p-value', 'JS distance', 'drifted'], driftRows(drift))).join('\n')}
<h2>Rollbacks</h2>
${
  report.rollbacks.length === 0
    ? '<p>None.</p>'
    : htmlTable(
        ['version', 'reason'],
        report.rollbacks.map((rollback) => [`v${rollback.version}`, rollback.reason]),
      )
}
<h2>Traffic</h2>
<p>${report.predictions.requests} prediction requests (${report.predictions.rows} rows); ${report.predictions.captureObjects} capture objects written for drift detection.</p>
<h2>Notifications</h2>
${report.notifications.length === 0 ? '<p>None.</p>' : `<ul>${report.notifications.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`}
</body></html>
`;
}
