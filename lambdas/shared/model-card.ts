/**
 * Builds a version's model card (contracts/model-card.ts) from evidence only, and gathers that
 * evidence: the registry's version record, audit trail and approval, and the run's evaluation
 * report and training profile in the artifacts bucket (found from the lineage's profile or split
 * URI, which name the run). Evidence that is missing leaves its section empty, never guessed.
 */

import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { type ModelCard, type ModelCardConfig, modelCardKeys, renderModelCardMarkdown } from '../../contracts/model-card';
import type { ApprovalRecord, AuditEvent, Page, VersionRecord } from '../../contracts/registry';
import { type ObjectStore, parseS3Uri, s3Uri } from './object-store';
import { parseProfile } from './profile/codec';
import type { DatasetProfile } from './profile/profile';

/** The part of evaluate-model's report (reports/<model>/<run>/evaluation-report.json) a card reads. */
export interface EvaluationReportEvidence {
  readonly evaluatedRows?: number;
  readonly passed?: boolean;
  readonly reasons?: string[];
  readonly metrics?: Record<string, number>;
  readonly sensitiveAttribute?: string | null;
  readonly groups?: Array<Record<string, string | number>>;
  readonly disparateImpact?: { value: number; reference: { group: string }; allowed: [number, number] } | null;
  readonly champion?: {
    version: number;
    note: string;
    comparisons: Array<{ metric: string; challenger: number; champion: number; limit: number; passed: boolean }>;
  } | null;
  readonly training?: { trainingSeconds: number | null; billableSeconds: number | null; spotSavings: number | null };
}

export interface ModelCardEvidence {
  readonly config: ModelCardConfig;
  readonly version: VersionRecord;
  /** The model's audit trail (any order). */
  readonly events: readonly AuditEvent[];
  readonly approval?: ApprovalRecord;
  readonly report?: { readonly uri: string; readonly body: EvaluationReportEvidence };
  readonly profile?: { readonly uri: string; readonly body: DatasetProfile };
  readonly now: Date;
}

const STAGE_ACTIONS = new Set<AuditEvent['action']>(['transition', 'promote', 'rollback']);

export function buildModelCard(evidence: ModelCardEvidence): ModelCard {
  const { config, version, report, profile } = evidence;
  const byTime = [...evidence.events].sort((a, b) => a.at.localeCompare(b.at) || a.eventId.localeCompare(b.eventId));
  const ofVersion = byTime.filter((event) => event.version === version.version);
  const split = version.lineage.split;
  const body = report?.body;
  return {
    formatVersion: 1,
    model: version.modelName,
    version: version.version,
    stage: version.stage,
    generatedAt: evidence.now.toISOString(),
    overview: {
      problemType: config.problemType,
      target: config.target,
      features: [...config.features],
      intendedUse: config.intendedUse ?? null,
      limitations: config.limitations ?? null,
      owner: config.owner ?? null,
      registeredAt: version.createdAt,
      registeredBy: version.createdBy,
    },
    lineage: {
      datasetUri: version.lineage.datasetUri,
      datasetEtag: version.lineage.datasetEtag,
      codeCommit: version.lineage.codeCommit ?? null,
      trainingJobName: version.lineage.trainingJobName ?? null,
      artifactUri: version.artifactUri,
      artifactSha256: version.artifactSha256,
      split: split
        ? { train: split.train.rows, validation: split.validation.rows, holdout: split.holdout?.rows ?? null, seed: split.seed }
        : null,
    },
    profile: profile
      ? {
          uri: profile.uri,
          rows: profile.body.rowCount,
          columns: Object.entries(profile.body.columns).map(([name, column]) => ({
            name,
            kind: column.kind,
            nulls: column.nulls,
            summary:
              column.kind === 'numeric'
                ? column.min === null
                  ? 'no values'
                  : `${column.min} to ${column.max}, mean ${round(column.moments.count > 0 ? column.moments.mean : Number.NaN)}`
                : column.categories
                    .slice(0, 3)
                    .map(([value, count]) => `${value} ${count}`)
                    .join(', ') + (column.categories.length > 3 || column.otherCount > 0 ? ', …' : ''),
          })),
        }
      : null,
    hyperparameters: { ...version.lineage.hyperparameters },
    training: {
      spotSavings: version.spotSavings ?? body?.training?.spotSavings ?? null,
      trainingSeconds: body?.training?.trainingSeconds ?? null,
      billableSeconds: body?.training?.billableSeconds ?? null,
    },
    evaluation: {
      reportUri: report?.uri ?? null,
      holdoutRows: body?.evaluatedRows ?? null,
      metrics: Object.entries(version.metrics).map(([name, value]) => ({ name, value })),
      passed: body?.passed ?? null,
      reasons: body?.reasons ?? [],
    },
    fairness: body?.sensitiveAttribute
      ? {
          sensitiveAttribute: body.sensitiveAttribute,
          groups: body.groups ?? [],
          disparateImpact: body.disparateImpact
            ? { value: body.disparateImpact.value, reference: body.disparateImpact.reference.group, allowed: body.disparateImpact.allowed }
            : null,
        }
      : null,
    champion: body?.champion ? { version: body.champion.version, note: body.champion.note, comparisons: body.champion.comparisons } : null,
    approvals: approvalsOf(evidence.approval, ofVersion),
    rollout: ofVersion
      .filter((event) => STAGE_ACTIONS.has(event.action))
      .map((event) => ({
        at: event.at,
        change: `${event.action}: ${event.fromStage ?? '?'} → ${event.toStage ?? '?'}`,
        by: event.actor,
        reason: event.reason ?? null,
      })),
    drift: ofVersion
      .filter((event) => event.action === 'drift-verdict' && event.details)
      .map((event) => ({
        windowEnd: event.details!.windowEnd ?? event.at,
        status: event.details!.status ?? 'unknown',
        sampleSize: Number(event.details!.sampleSize ?? 0),
        driftedFeatures: event.details!.driftedFeatures ? event.details!.driftedFeatures.split(',') : [],
      })),
  };
}

function approvalsOf(approval: ApprovalRecord | undefined, events: readonly AuditEvent[]): ModelCard['approvals'] {
  const decided = events.filter((event) => event.action === 'approval-decided');
  if (decided.length > 0) {
    return decided.map((event) => ({
      status: event.toStage === 'Rejected' || event.details?.status === 'Rejected' ? 'Rejected' : (event.details?.status ?? 'Approved'),
      by: event.actor,
      at: event.at,
      reason: event.reason ?? null,
    }));
  }
  if (!approval) return [];
  return [
    {
      status: approval.status,
      by: approval.decidedBy ?? null,
      at: approval.decidedAt ?? approval.requestedAt,
      reason: approval.reason ?? null,
    },
  ];
}

const round = (value: number) => (Number.isFinite(value) ? Number(value.toPrecision(4)) : 'n/a');

/** The run a version came from, from its profile or split URI (`<prefix><model>/<run>/...`). */
export function runIdOf(version: VersionRecord): string | undefined {
  for (const [uri, prefix] of [
    [version.lineage.profileUri, ARTIFACT_PREFIXES.profiles],
    [version.lineage.split?.uri, ARTIFACT_PREFIXES.splits],
  ] as const) {
    if (!uri) continue;
    const { key } = parseS3Uri(uri, 'lineage');
    const rest = key.startsWith(`${prefix}${version.modelName}/`) ? key.slice(prefix.length + version.modelName.length + 1) : '';
    const run = rest.split('/')[0];
    if (run) return run;
  }
  return undefined;
}

/** How a card reaches the registry: its reads, through the registry function or a store. */
export interface ModelCardRegistry {
  getVersion(modelName: string, version: number): Promise<VersionRecord>;
  listEvents(modelName: string, cursor?: string): Promise<Page<AuditEvent>>;
  getApproval(modelName: string, version: number): Promise<ApprovalRecord | undefined>;
}

export interface ModelCardSources {
  readonly registry: ModelCardRegistry;
  readonly store: Pick<ObjectStore, 'getText' | 'put'>;
  readonly artifactsBucket: string;
  readonly config: ModelCardConfig;
  readonly now?: () => Date;
}

export interface StoredModelCard {
  readonly card: ModelCard;
  readonly markdown: string;
  readonly jsonUri: string;
  readonly markdownUri: string;
}

/** Gathers the evidence, builds the card and keeps it (JSON and Markdown) in the artifacts bucket. */
export async function writeModelCard(sources: ModelCardSources, modelName: string, versionNumber: number): Promise<StoredModelCard> {
  const { registry, store, artifactsBucket } = sources;
  const version = await registry.getVersion(modelName, versionNumber);
  const events: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await registry.listEvents(modelName, cursor);
    events.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  const run = runIdOf(version);
  const reportKey = run ? `${ARTIFACT_PREFIXES.reports}${modelName}/${run}/evaluation-report.json` : undefined;
  const report = reportKey ? await optionalJson<EvaluationReportEvidence>(store, artifactsBucket, reportKey) : undefined;
  const profileUri = version.lineage.profileUri;
  const profileText = profileUri
    ? await optionalText(store, parseS3Uri(profileUri, 'profileUri').bucket, parseS3Uri(profileUri, 'profileUri').key)
    : undefined;
  const card = buildModelCard({
    config: sources.config,
    version,
    events,
    approval: await registry.getApproval(modelName, versionNumber),
    ...(report && reportKey ? { report: { uri: s3Uri(artifactsBucket, reportKey), body: report } } : {}),
    ...(profileText && profileUri ? { profile: { uri: profileUri, body: parseProfile(profileText) } } : {}),
    now: (sources.now ?? (() => new Date()))(),
  });
  const markdown = renderModelCardMarkdown(card);
  const keys = modelCardKeys(modelName, versionNumber);
  await store.put(artifactsBucket, keys.json, `${JSON.stringify(card, null, 2)}\n`, 'application/json');
  await store.put(artifactsBucket, keys.markdown, markdown, 'text/markdown; charset=utf-8');
  return { card, markdown, jsonUri: s3Uri(artifactsBucket, keys.json), markdownUri: s3Uri(artifactsBucket, keys.markdown) };
}

async function optionalText(store: Pick<ObjectStore, 'getText'>, bucket: string, key: string): Promise<string | undefined> {
  try {
    return await store.getText(bucket, key);
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

async function optionalJson<T>(store: Pick<ObjectStore, 'getText'>, bucket: string, key: string): Promise<T | undefined> {
  const text = await optionalText(store, bucket, key);
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

function isMissing(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'NotFoundError' || name === 'NoSuchKey' || name === 'NotFound';
}

/**
 * The card's registry reads through the registry's request interface (`{ action, ...request }`):
 * the registry function from the API function, the in-process registry offline.
 */
export function registryCardReader(call: (action: string, request: Record<string, unknown>) => Promise<unknown>): ModelCardRegistry {
  return {
    getVersion: async (modelName, version) => (await call('getVersion', { modelName, version })) as VersionRecord,
    listEvents: async (modelName, cursor) =>
      (await call('listEvents', { modelName, limit: 100, ...(cursor ? { cursor } : {}) })) as Page<AuditEvent>,
    getApproval: async (modelName, version) => {
      try {
        return (await call('getApproval', { modelName, version })) as ApprovalRecord;
      } catch (error) {
        if ((error as Error)?.name === 'NotFoundError') return undefined;
        throw error;
      }
    },
  };
}
