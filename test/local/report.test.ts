import { describe, expect, it } from 'vitest';
import { zoomedScoreScale } from '../../local/charts';
import { batchLine, reportHtml, runsIndexHtml, type ScenarioReport, summaryText, table } from '../../local/report';

const report: ScenarioReport = {
  scenario: 'demo',
  model: 'churn',
  startedAt: new Date('2026-11-23T10:00:00Z'),
  durationMs: 42_000,
  runs: [
    { execution: 'train-1', purpose: 'initial training', status: 'SUCCEEDED', durationMs: 5200, transitions: 16 },
    {
      execution: 'train-3',
      purpose: 'bad model',
      status: 'FAILED',
      durationMs: 9100,
      transitions: 25,
      error: 'DeploymentRolledBack',
      cause: 'p99 <alarm>',
    },
  ],
  versions: [
    { version: 1, stage: 'Archived', metrics: { accuracy: 0.91, f1: 0.9, 'accuracy.gender=female': 0.9 }, spotSavings: 0.7 },
    { version: 2, stage: 'Production', metrics: { accuracy: 0.97, f1: 0.92 }, spotSavings: 0.7 },
  ],
  drift: [
    {
      window: 'normal traffic',
      description: 'the population the model was trained on',
      verdict: 'no-drift',
      psiWarn: 0.1,
      psiDrift: 0.25,
      features: [
        { feature: 'monthly_charges', psi: 0.01, test: 'KS', pValue: 0.6, js: 0.01, drifted: false },
        { feature: 'contract', psi: 0.02, test: 'chi-square', pValue: 0.4, js: 0.02, drifted: false },
      ],
    },
    {
      window: 'shifted traffic',
      description: 'a shifted population',
      verdict: 'drift',
      psiWarn: 0.1,
      psiDrift: 0.25,
      features: [
        { feature: 'monthly_charges', psi: 0.61, test: 'KS', pValue: 0, js: 0.3, drifted: true },
        { feature: 'contract', psi: 1.2, test: 'chi-square', pValue: 0, js: 0.4, drifted: true },
      ],
    },
  ],
  rollbacks: [{ version: 3, reason: 'canary p99 latency 912 ms > 200 ms' }],
  predictions: { requests: 1240, rows: 31_200, captureObjects: 4 },
  notifications: ['Execution train-3 failed in DeployVersion'],
};

/** The SVG of the figure whose caption starts with `title`. */
function figure(html: string, title: string): string {
  const start = html.indexOf(`<figcaption>${title}`);
  expect(start, title).toBeGreaterThanOrEqual(0);
  return html.slice(start, html.indexOf('</figure>', start));
}
const barWidths = (svg: string) => [...svg.matchAll(/<rect [^>]*width="([\d.]+)"/g)].map((match) => Number(match[1]));
const tickLabels = (svg: string) => [...svg.matchAll(/class="tick">([^<]+)</g)].map((match) => match[1]);

describe('the run report', () => {
  it('lists the registry events the run published, with a count per detail type in the summary', () => {
    const withEvents: ScenarioReport = {
      ...report,
      registryEvents: [
        { at: '2026-01-01T00:00:01.000Z', detailType: 'Model Version Registered', version: 1, summary: 'register', eventId: 'e-1' },
        {
          at: '2026-01-01T00:00:02.000Z',
          detailType: 'Model Version Promoted',
          version: 1,
          summary: 'promoted by <pipeline>',
          eventId: 'e-2',
        },
        { at: '2026-01-01T00:00:03.000Z', detailType: 'Model Version Registered', version: 2, summary: 'register', eventId: 'e-3' },
      ],
    };
    expect(summaryText(withEvents)).toContain('Registry events: 3 published: 2 Model Version Registered, 1 Model Version Promoted');
    const html = reportHtml(withEvents);
    expect(html).toContain('<h2>Registry events</h2>');
    expect(html).toContain('promoted by &lt;pipeline&gt;');
    expect(html).toContain('e-3');
    expect(summaryText(report)).not.toContain('Registry events');
  });

  it('aligns the columns of a text table', () => {
    expect(table(['a', 'long header'], [['value', 'x']]).split('\n')).toEqual(['a      long header', '─────  ───────────', 'value  x']);
  });

  it('summarises runs, versions (top-level metrics only), drift and rollbacks', () => {
    const text = summaryText(report);
    expect(text).toContain('failed: DeploymentRolledBack');
    expect(text).toMatch(/v2\s+Production\s+0\.970\s+0\.920\s+70%/);
    expect(text).not.toContain('accuracy.gender=female');
    expect(text).toMatch(/monthly_charges\s+0\.610\s+KS\s+0\.0000\s+0\.300\s+yes/);
    expect(text).toContain('Rolled back: v3 — canary p99 latency 912 ms > 200 ms');
  });

  it('writes a self-contained page: charts as inline SVG, text escaped, nothing fetched', () => {
    const html = reportHtml(report);
    expect(html).toContain('<svg');
    expect(html).toContain('PSI per feature — shifted traffic (drift)');
    expect(html).toContain('p99 &lt;alarm&gt;');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
  });

  it('captions each drift window with what it held, the normal window apart from the shifted one', () => {
    const html = reportHtml(report);
    expect(html).toContain('<caption>Drift statistics, normal traffic: the population the model was trained on — no-drift</caption>');
    expect(html).toContain('<caption>Drift statistics, shifted traffic: a shifted population — drift</caption>');
    expect(summaryText(report)).toContain('Drift, shifted traffic: a shifted population — drift');
  });

  it('draws every PSI chart on one labelled scale', () => {
    const html = reportHtml(report);
    const normal = figure(html, 'PSI per feature — normal traffic');
    const shifted = figure(html, 'PSI per feature — shifted traffic');
    expect(tickLabels(normal)).toEqual(tickLabels(shifted));
    expect(tickLabels(normal).at(-1)).toBe('1.25');
    for (const svg of [normal, shifted]) expect(svg).toContain('PSI, population stability index');
    // monthly_charges' PSI 0.01 against 0.61: bars on the same scale, in proportion.
    expect(barWidths(shifted)[0]! / barWidths(normal)[0]!).toBeGreaterThan(20);
  });

  it('shows the metric differences between versions: the score axis starts just under the lowest score, and says so', () => {
    const chart = figure(reportHtml(report), 'Holdout scores per version');
    expect(chart).toContain('the axis starts at 0.85, not 0');
    expect(tickLabels(chart)[0]).toBe('0.85');
    const [v1Accuracy, , v2Accuracy] = barWidths(chart);
    // 0.91 against 0.97 on a 0.85–1 axis: the second bar is twice the first (from 0 it would be 7% longer).
    expect(v2Accuracy! / v1Accuracy!).toBeGreaterThan(1.9);
  });

  it('names the test behind each p-value: KS for numeric features, chi-square for categorical ones', () => {
    const html = reportHtml(report);
    expect(html).toContain('<td>contract</td><td>1.200</td><td>chi-square</td>');
    expect(html).toContain('<td>monthly_charges</td><td>0.610</td><td>KS</td>');
    expect(html).not.toContain('KS p-value');
  });

  it('shows why a run failed instead of empty tables', () => {
    const failed: ScenarioReport = {
      ...report,
      runs: [
        {
          execution: 'train-x',
          purpose: 'Training pipeline',
          status: 'FAILED',
          durationMs: 1200,
          transitions: 9,
          error: 'DatasetInvalid',
          cause: 'dataset failed 2 rules: range tenure_months: 12 rows',
          files: [{ label: 'quarantined rows: rows.jsonl', path: 'executions/train-x/quarantine/rows.jsonl' }],
        },
      ],
      versions: [],
      drift: [],
      rollbacks: [],
    };
    const html = reportHtml(failed);
    expect(html).toContain('<h2>Why runs failed</h2>');
    expect(html).toContain('DatasetInvalid');
    expect(html).toContain('dataset failed 2 rules: range tenure_months: 12 rows');
    expect(html).toContain('<a href="executions/train-x/quarantine/rows.jsonl">quarantined rows: rows.jsonl</a>');
    expect(html).toContain('No version was registered: see why the runs failed above.');
    expect(html).not.toMatch(/<tbody><\/tbody>/);
    expect(summaryText(failed)).toContain('Why train-x failed: DatasetInvalid — dataset failed 2 rules: range tenure_months: 12 rows');
  });

  it('gives the terminal and the page the same duration and prediction counts', () => {
    const text = summaryText(report);
    const html = reportHtml(report);
    for (const figure of ['42.0 s', '1,240 prediction requests (31,200 rows); 4 capture objects written for drift detection']) {
      expect(text).toContain(figure);
      expect(html).toContain(figure);
    }
  });

  it('shows a batch run with the same sentence in the terminal and on the page: rows, failures, objects, drift, cost; a failed one with its cause', () => {
    const scored = {
      execution: 'batch-2026-11-30',
      status: 'SUCCEEDED',
      durationMs: 2100,
      version: 2,
      objects: 3,
      rows: 60_000,
      scoredRows: 59_990,
      failedRows: 10,
      drift: 'drift',
      driftedFeatures: ['monthly_charges', 'contract'],
      transitions: 12,
      lambdaGbSeconds: 4.53,
      dollars: 0.000_412,
      manifestUri: 's3://local-artifacts/batch/churn/batch-2026-11-30/_manifest.json',
    };
    const failed = {
      execution: 'batch-2',
      status: 'FAILED',
      durationMs: 300,
      error: 'ValidationError',
      cause: 'inputUri must be under <x>',
    };
    expect(batchLine(scored)).toBe(
      '59,990 rows scored by v2, 10 failed, 3 objects; drift of the scored rows: drift (drifted: monthly_charges, contract); cost: 12 state transitions, 4.5 Lambda GB-s ($0.0004)',
    );
    expect(batchLine(failed)).toBe('batch-2 failed: ValidationError — inputUri must be under <x>');
    const withBatch = { ...report, batch: [scored, failed] };
    expect(summaryText(withBatch)).toContain(`Batch scoring, batch-2026-11-30: ${batchLine(scored)}`);
    const html = reportHtml(withBatch);
    expect(html).toContain('<h2>Batch scoring</h2>');
    expect(html).toContain(`<td>${batchLine(scored)}</td>`);
    expect(html).toContain(scored.manifestUri);
    expect(html).toContain('inputUri must be under &lt;x&gt;');
    expect(reportHtml(report)).toContain('<p>No batch run.</p>');
  });

  it('lists the runs of a workspace, newest first, each linking its report', () => {
    const html = runsIndexHtml([
      {
        id: 'a-train',
        scenario: 'train',
        model: 'churn',
        startedAt: '2026-11-01T00:00:00Z',
        durationMs: 1000,
        outcome: 'succeeded',
        summary: '1 run',
      },
      {
        id: 'b-demo',
        scenario: 'demo',
        model: 'churn',
        startedAt: '2026-11-02T00:00:00Z',
        durationMs: 2000,
        outcome: 'failed',
        summary: 'x',
      },
    ]);
    expect(html.indexOf('b-demo/index.html')).toBeGreaterThan(0);
    expect(html.indexOf('b-demo/index.html')).toBeLessThan(html.indexOf('a-train/index.html'));
  });
});

describe('the zoomed score scale', () => {
  it('starts on a multiple of 0.05 under the lowest score and ends at 1', () => {
    expect(zoomedScoreScale([0.92, 0.97], 'score')).toMatchObject({ min: 0.9, max: 1 });
    expect(zoomedScoreScale([0.5, 0.97], 'score')).toMatchObject({ min: 0.45, max: 1 });
    expect(zoomedScoreScale([0.01], 'score')).toMatchObject({ min: 0, label: 'score' });
  });
});
