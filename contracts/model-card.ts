/**
 * Model cards: one JSON document and its Markdown rendering per model version, built from
 * evidence only — the model's configuration (intended use, owner), the registry's version record
 * (lineage, hyperparameters, metrics), the run's evaluation report and training profile in the
 * artifacts bucket, and the registry's audit trail (approvals, rollout, drift). A section whose
 * evidence is missing says so (`null` in JSON, "not recorded" in Markdown); nothing is inferred.
 */
import { ARTIFACT_PREFIXES } from './artifacts';
import type { ResolvedModelConfig } from './platform-config';
import type { Stage } from './registry';

/** What the configuration says about a model, for its card. */
export interface ModelCardConfig {
  readonly problemType: string;
  readonly target: string;
  readonly features: readonly string[];
  readonly intendedUse?: string;
  readonly limitations?: string;
  readonly owner?: string;
}

/** A model's card settings: its `card` entry, the owner defaulting to the platform's. */
export function modelCardConfigOf(model: ResolvedModelConfig, platformOwner?: string): ModelCardConfig {
  const owner = model.card?.owner ?? platformOwner;
  return {
    problemType: model.problemType,
    target: model.target,
    features: [...model.features],
    ...(model.card?.intendedUse ? { intendedUse: model.card.intendedUse } : {}),
    ...(model.card?.limitations ? { limitations: model.card.limitations } : {}),
    ...(owner ? { owner } : {}),
  };
}

export interface ModelCardMetric {
  readonly name: string;
  readonly value: number;
}

export interface ModelCard {
  readonly formatVersion: 1;
  readonly model: string;
  readonly version: number;
  readonly stage: Stage;
  readonly generatedAt: string;
  readonly overview: {
    readonly problemType: string;
    readonly target: string;
    readonly features: readonly string[];
    /** From the model's `card.intendedUse` setting; null when the configuration gives none. */
    readonly intendedUse: string | null;
    readonly limitations: string | null;
    /** The model's `card.owner`, else the platform's Owner tag. */
    readonly owner: string | null;
    readonly registeredAt: string;
    readonly registeredBy: string;
  };
  readonly lineage: {
    readonly datasetUri: string;
    readonly datasetEtag: string;
    readonly codeCommit: string | null;
    readonly trainingJobName: string | null;
    readonly artifactUri: string;
    readonly artifactSha256: string;
    readonly split: { readonly train: number; readonly validation: number; readonly holdout: number | null; readonly seed: number } | null;
  };
  /** The training profile: rows, and per column its nulls and range or top categories. */
  readonly profile: {
    readonly uri: string;
    readonly rows: number;
    readonly columns: ReadonlyArray<{ readonly name: string; readonly kind: string; readonly nulls: number; readonly summary: string }>;
  } | null;
  readonly hyperparameters: Readonly<Record<string, string>>;
  readonly training: {
    readonly spotSavings: number | null;
    readonly trainingSeconds: number | null;
    readonly billableSeconds: number | null;
  };
  readonly evaluation: {
    readonly reportUri: string | null;
    /** Rows the gate scored (the holdout); null without the report. */
    readonly holdoutRows: number | null;
    readonly metrics: readonly ModelCardMetric[];
    readonly passed: boolean | null;
    readonly reasons: readonly string[];
  };
  readonly fairness: {
    readonly sensitiveAttribute: string;
    readonly groups: ReadonlyArray<Readonly<Record<string, string | number>>>;
    readonly disparateImpact: { readonly value: number; readonly reference: string; readonly allowed: readonly [number, number] } | null;
  } | null;
  readonly champion: {
    readonly version: number;
    readonly note: string;
    readonly comparisons: ReadonlyArray<{ metric: string; challenger: number; champion: number; limit: number; passed: boolean }>;
  } | null;
  readonly approvals: ReadonlyArray<{
    readonly status: string;
    readonly by: string | null;
    readonly at: string;
    readonly reason: string | null;
  }>;
  readonly rollout: ReadonlyArray<{ readonly at: string; readonly change: string; readonly by: string; readonly reason: string | null }>;
  readonly drift: ReadonlyArray<{
    readonly windowEnd: string;
    readonly status: string;
    readonly sampleSize: number;
    readonly driftedFeatures: readonly string[];
  }>;
}

/** The key prefix of a model's cards in the artifacts bucket. */
export function modelCardPrefix(model: string): string {
  return `${ARTIFACT_PREFIXES.reports}${model}/cards/`;
}

/** Where a version's card is kept in the artifacts bucket (the JSON and its Markdown). */
export function modelCardKeys(model: string, version: number): { readonly json: string; readonly markdown: string } {
  const base = `${modelCardPrefix(model)}v${String(version).padStart(6, '0')}`;
  return { json: `${base}.json`, markdown: `${base}.md` };
}

const NOT_RECORDED = '_not recorded_';
const cell = (value: string | number | null | undefined) =>
  value === null || value === undefined ? '—' : String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const number = (value: number) => (Number.isInteger(value) ? String(value) : value.toFixed(4));

function table(headers: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number | null>>): string {
  return [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** The card as Markdown: every section, each from the JSON card only. */
export function renderModelCardMarkdown(card: ModelCard): string {
  const { overview, lineage, evaluation } = card;
  const sections: string[] = [
    `# Model card: ${card.model} v${card.version}`,
    `Stage **${card.stage}**; generated ${card.generatedAt} from the registry, the run's reports and the configuration.`,
    '## Overview',
    table(
      ['field', 'value'],
      [
        ['problem type', overview.problemType],
        ['target', overview.target],
        ['features', overview.features.join(', ')],
        ['intended use', overview.intendedUse ?? 'not configured (`card.intendedUse`)'],
        ['limitations', overview.limitations ?? 'not configured (`card.limitations`)'],
        ['owner', overview.owner ?? 'not configured'],
        ['registered', `${overview.registeredAt} by ${overview.registeredBy}`],
      ],
    ),
    '## Lineage',
    table(
      ['field', 'value'],
      [
        ['dataset', lineage.datasetUri],
        ['dataset ETag', lineage.datasetEtag],
        ['code commit', lineage.codeCommit],
        ['training job', lineage.trainingJobName],
        ['artifact', lineage.artifactUri],
        ['artifact SHA-256', lineage.artifactSha256],
        [
          'split rows (train / validation / holdout)',
          lineage.split
            ? `${lineage.split.train} / ${lineage.split.validation} / ${lineage.split.holdout ?? 'own holdout'} (seed ${lineage.split.seed})`
            : null,
        ],
      ],
    ),
    '## Training data profile',
    card.profile
      ? `${card.profile.rows} rows (${card.profile.uri})\n\n${table(
          ['column', 'kind', 'nulls', 'summary'],
          card.profile.columns.map((column) => [column.name, column.kind, column.nulls, column.summary]),
        )}`
      : NOT_RECORDED,
    '## Hyperparameters',
    Object.keys(card.hyperparameters).length > 0 ? table(['name', 'value'], Object.entries(card.hyperparameters)) : NOT_RECORDED,
    '## Training cost',
    table(
      ['training seconds', 'billable seconds', 'spot savings'],
      [
        [
          card.training.trainingSeconds,
          card.training.billableSeconds,
          card.training.spotSavings === null ? null : `${(card.training.spotSavings * 100).toFixed(1)}%`,
        ],
      ],
    ),
    '## Evaluation',
    `Holdout rows scored: ${evaluation.holdoutRows ?? 'not recorded'}; gate: ${evaluation.passed === null ? 'not recorded' : evaluation.passed ? 'passed' : 'failed'}${
      evaluation.reasons.length > 0 ? ` (${evaluation.reasons.join('; ')})` : ''
    }.`,
    evaluation.metrics.length > 0
      ? table(
          ['metric', 'value'],
          evaluation.metrics.map((metric) => [metric.name, number(metric.value)]),
        )
      : NOT_RECORDED,
    '## Fairness',
    card.fairness
      ? [
          `Sensitive attribute: \`${card.fairness.sensitiveAttribute}\`.`,
          card.fairness.groups.length > 0
            ? table(
                Object.keys(card.fairness.groups[0]!),
                card.fairness.groups.map((group) =>
                  Object.values(group).map((value) => (typeof value === 'number' ? number(value) : value)),
                ),
              )
            : NOT_RECORDED,
          card.fairness.disparateImpact
            ? `Disparate impact ${number(card.fairness.disparateImpact.value)} against \`${card.fairness.disparateImpact.reference}\` (allowed ${card.fairness.disparateImpact.allowed.join(' to ')}).`
            : 'Disparate impact: not recorded.',
        ].join('\n\n')
      : 'No sensitive attribute configured.',
    '## Champion comparison',
    card.champion
      ? `Against v${card.champion.version}: ${card.champion.note}\n\n${table(
          ['metric', 'challenger', 'champion', 'limit', 'passed'],
          card.champion.comparisons.map((row) => [
            row.metric,
            number(row.challenger),
            number(row.champion),
            number(row.limit),
            row.passed ? 'yes' : 'no',
          ]),
        )}`
      : 'No champion: the first version, or no report.',
    '## Approvals',
    card.approvals.length > 0
      ? table(
          ['status', 'by', 'at', 'why'],
          card.approvals.map((approval) => [approval.status, approval.by, approval.at, approval.reason]),
        )
      : 'None recorded.',
    '## Rollout',
    card.rollout.length > 0
      ? table(
          ['at', 'change', 'by', 'reason'],
          card.rollout.map((phase) => [phase.at, phase.change, phase.by, phase.reason]),
        )
      : 'None recorded.',
    '## Drift history',
    card.drift.length > 0
      ? table(
          ['window end', 'verdict', 'rows', 'drifted features'],
          card.drift.map((entry) => [entry.windowEnd, entry.status, entry.sampleSize, entry.driftedFeatures.join(', ')]),
        )
      : 'No drift check recorded while this version served.',
  ];
  return `${sections.join('\n\n')}\n`;
}
