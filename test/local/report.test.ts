import { describe, expect, it } from 'vitest';
import { reportHtml, type ScenarioReport, summaryText, table } from '../../local/report';

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
    { version: 2, stage: 'Production', metrics: { accuracy: 0.93, f1: 0.92 }, spotSavings: 0.7 },
  ],
  drift: [
    {
      window: 'drifted traffic',
      verdict: 'drift',
      psiWarn: 0.1,
      psiDrift: 0.25,
      features: [
        { feature: 'monthly_charges', psi: 0.61, ksPValue: 0, js: 0.3, drifted: true },
        { feature: 'tenure_months', psi: 0.02, ksPValue: 0.5, js: 0.01, drifted: false },
      ],
    },
  ],
  rollbacks: [{ version: 3, reason: 'canary p99 latency 912 ms > 200 ms' }],
  predictions: { requests: 40, rows: 1200, captureObjects: 4 },
  notifications: ['Execution train-3 failed in DeployVersion'],
};

describe('the demo report', () => {
  it('aligns the columns of a text table', () => {
    expect(table(['a', 'long header'], [['value', 'x']]).split('\n')).toEqual(['a      long header', '─────  ───────────', 'value  x']);
  });

  it('summarises runs, versions (top-level metrics only), drift and rollbacks', () => {
    const text = summaryText(report);
    expect(text).toContain('failed: DeploymentRolledBack');
    expect(text).toMatch(/v2\s+Production\s+0\.930\s+0\.920\s+70%/);
    expect(text).not.toContain('accuracy.gender=female');
    expect(text).toMatch(/monthly_charges\s+0\.610\s+0\.0000\s+0\.300\s+yes/);
    expect(text).toContain('Rolled back: v3 — canary p99 latency 912 ms > 200 ms');
  });

  it('writes a self-contained page: charts as inline SVG, text escaped, nothing fetched', () => {
    const html = reportHtml(report);
    expect(html).toContain('<svg');
    expect(html).toContain('PSI per feature — drifted traffic (drift)');
    expect(html).toContain('p99 &lt;alarm&gt;');
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\//);
    // One bar per version and metric, one per feature.
    expect(html.match(/<rect /g)).toHaveLength(2 * 2 + 2);
  });
});
