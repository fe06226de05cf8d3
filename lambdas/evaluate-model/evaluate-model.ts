/**
 * The evaluate-model use case over an ObjectStore and a registry reader: fetch the trained
 * artifact and hash it, score the holdout, judge the metrics against the model's thresholds and
 * against the production champion re-scored on the same holdout, write the full report to the
 * artifacts bucket and return a small result for the pipeline's gate. The report key derives
 * from the model and run id, and the report holds nothing time-dependent, so a repeated event
 * rewrites the same object with the same content.
 */
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import type { ModelDocument } from '../../contracts/model';
import type { VersionRecord } from '../../contracts/registry';
import { type ModelSchema, modelSchemaFor } from '../../contracts/serving-schema';
import { NotFoundError, ValidationError } from '../shared/errors';
import { type ObjectStore, parseS3Uri, s3Uri } from '../shared/object-store';
import { ArtifactIntegrityError, modelBytesOf, sha256Hex } from '../shared/serving/model-artifact';
import { classLabelsOf } from '../shared/serving/predictions';
import { fetchModelBytes, type RegistryReader } from '../shared/serving/served-version';
import { applyGate, type ChampionComparison } from './gate';
import { type Holdout, readHoldout, type SkippedRows } from './holdout';
import { assessQuality, type QualityAssessment, registryMetrics } from './quality';
import { type LoadedModel, ModelContractError, scoreHoldout } from './scoring';

export interface EvaluateRequest {
  readonly model: ModelDocument;
  readonly artifactUri: string;
  readonly holdoutUri: string;
  readonly trainingJobName: string;
  readonly billableSeconds: number | null;
  readonly trainingSeconds: number | null;
  readonly runId: string;
}

export interface EvaluateContext {
  readonly store: ObjectStore;
  readonly registry: RegistryReader;
  readonly artifactsBucket: string;
  /** Creates a scoring session for ONNX bytes (onnxruntime-node in the function). */
  readonly loadModel: (modelBytes: Uint8Array) => Promise<LoadedModel>;
  /** The one model this function evaluates (its MODEL_NAME); an event for another is refused. */
  readonly modelName?: string;
}

export interface ChampionSummary {
  readonly version: number;
  readonly metrics: Record<string, number>;
  /** False when the champion could not be scored on this holdout and its recorded metrics were used. */
  readonly rescored: boolean;
}

/** What the state machine receives (well under 16 KB): the gate's verdict and what the registry records. */
export interface EvaluationResult {
  readonly passed: boolean;
  readonly metrics: Record<string, number>;
  readonly reasons: string[];
  readonly artifactSha256: string;
  /** 1 − billable / training seconds; only when both are known and training took time. */
  readonly spotSavings?: number;
  readonly reportUri: string;
  readonly champion: ChampionSummary | null;
}

export interface EvaluationReport {
  readonly model: string;
  readonly problemType: ModelDocument['problemType'];
  readonly runId: string;
  readonly trainingJobName: string;
  readonly artifactUri: string;
  readonly artifactSha256: string;
  readonly holdoutUri: string;
  readonly holdoutObjects: Holdout['objects'];
  readonly evaluatedRows: number;
  readonly skippedRows: SkippedRows & { readonly total: number };
  readonly features: string[];
  readonly passed: boolean;
  readonly reasons: string[];
  readonly thresholds: ModelDocument['thresholds'];
  readonly metrics: Record<string, number>;
  readonly unavailableMetrics: Record<string, string>;
  readonly confusionMatrix: QualityAssessment['confusionMatrix'] | null;
  readonly sensitiveAttribute: string | null;
  readonly groups: QualityAssessment['groups'];
  readonly disparateImpact: (NonNullable<QualityAssessment['disparateImpact']> & { readonly allowed: [number, number] }) | null;
  readonly champion: {
    readonly version: number;
    readonly artifactUri: string;
    readonly rescored: boolean;
    readonly note: string;
    readonly metrics: Record<string, number>;
    readonly gatedMetrics: string[];
    readonly comparisons: ChampionComparison[];
    readonly uncompared: string[];
  } | null;
  readonly training: {
    readonly trainingSeconds: number | null;
    readonly billableSeconds: number | null;
    readonly spotSavings: number | null;
  };
}

const HEADLINE_METRICS: Readonly<Record<ModelDocument['problemType'], readonly string[]>> = {
  'binary-classification': ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'],
  'multiclass-classification': ['accuracy', 'precision', 'recall', 'f1', 'rocAuc'],
  regression: ['mae', 'rmse', 'r2'],
};

export function reportKey(modelName: string, runId: string): string {
  return `${ARTIFACT_PREFIXES.reports}${modelName}/${runId}/evaluation-report.json`;
}

/** 1 − billable / training seconds, clamped to [0, 1]; undefined unless both are known and training took time. */
export function spotSavingsOf(billableSeconds: number | null, trainingSeconds: number | null): number | undefined {
  if (billableSeconds === null || trainingSeconds === null || trainingSeconds <= 0) return undefined;
  return Math.min(1, Math.max(0, 1 - billableSeconds / trainingSeconds));
}

export async function evaluateModel(context: EvaluateContext, request: EvaluateRequest): Promise<EvaluationResult> {
  const { model } = request;
  const schema = servingSchemaOf(model);

  const artifactLocation = parseS3Uri(request.artifactUri, 'artifactUri');
  const artifact = await context.store.getBytes(artifactLocation.bucket, artifactLocation.key);
  const artifactSha256 = sha256Hex(artifact);
  const challengerModel = await loadModel(
    context,
    await modelBytesOf(artifact, artifactLocation.key, request.artifactUri),
    request.artifactUri,
  );

  const target = model.columns.find((column) => column.name === model.target)!;
  const sensitive = model.sensitiveAttribute ? model.columns.find((column) => column.name === model.sensitiveAttribute) : undefined;
  const holdout = await readHoldout(context.store, request.holdoutUri, schema, {
    target: { name: target.name, type: target.type },
    ...(sensitive ? { sensitiveAttribute: { name: sensitive.name, type: sensitive.type } } : {}),
  });
  const skippedTotal =
    holdout.skipped.nullTarget + holdout.skipped.invalidTarget + holdout.skipped.invalidFeature + holdout.skipped.unreadable;
  if (holdout.rows === 0) {
    throw new ValidationError(
      `the holdout ${request.holdoutUri} has no row to evaluate: ${skippedTotal} rows skipped (${holdout.skipped.nullTarget} without a target, ${holdout.skipped.invalidTarget} with a target outside the model's classes, ${holdout.skipped.invalidFeature} with a feature the model cannot take, ${holdout.skipped.unreadable} unreadable)`,
      { holdoutUri: request.holdoutUri, examples: holdout.skipped.examples.slice(0, 5) },
    );
  }

  const quality = assessQuality(schema, holdout, await scoreHoldout(challengerModel, schema, holdout, request.artifactUri));
  const champion = await scoreChampion(context, model, schema, holdout);
  const gate = applyGate({
    problemType: model.problemType,
    thresholds: model.thresholds,
    holdout: holdoutSizeOf(holdout, schema),
    metrics: quality.metrics,
    unavailable: quality.unavailable,
    ...(quality.disparateImpact && model.sensitiveAttribute
      ? { disparateImpact: { attribute: model.sensitiveAttribute, ...quality.disparateImpact } }
      : {}),
    ...(champion ? { champion: { version: champion.record.version, metrics: champion.metrics } } : {}),
  });
  const spotSavings = spotSavingsOf(request.billableSeconds, request.trainingSeconds);
  const key = reportKey(model.name, request.runId);

  const report: EvaluationReport = {
    model: model.name,
    problemType: model.problemType,
    runId: request.runId,
    trainingJobName: request.trainingJobName,
    artifactUri: request.artifactUri,
    artifactSha256,
    holdoutUri: request.holdoutUri,
    holdoutObjects: holdout.objects,
    evaluatedRows: holdout.rows,
    skippedRows: { ...holdout.skipped, total: skippedTotal },
    features: schema.features.map((feature) => feature.name),
    passed: gate.passed,
    reasons: gate.reasons,
    thresholds: model.thresholds,
    metrics: quality.metrics,
    unavailableMetrics: quality.unavailable,
    confusionMatrix: quality.confusionMatrix ?? null,
    sensitiveAttribute: model.sensitiveAttribute ?? null,
    groups: quality.groups,
    disparateImpact: quality.disparateImpact ? { ...quality.disparateImpact, allowed: model.thresholds.disparateImpact } : null,
    champion: champion
      ? {
          version: champion.record.version,
          artifactUri: champion.record.artifactUri,
          rescored: champion.rescored,
          note: champion.note,
          metrics: champion.metrics,
          gatedMetrics: gate.gatedMetrics,
          comparisons: gate.comparisons,
          uncompared: gate.uncompared,
        }
      : null,
    training: {
      trainingSeconds: request.trainingSeconds,
      billableSeconds: request.billableSeconds,
      spotSavings: spotSavings ?? null,
    },
  };
  await context.store.put(context.artifactsBucket, key, `${JSON.stringify(report, null, 1)}\n`, 'application/json');

  return {
    passed: gate.passed,
    metrics: registryMetrics(quality, holdout.rows, model.sensitiveAttribute),
    reasons: gate.reasons,
    artifactSha256,
    ...(spotSavings === undefined ? {} : { spotSavings }),
    reportUri: s3Uri(context.artifactsBucket, key),
    champion: champion ? { version: champion.record.version, metrics: champion.metrics, rescored: champion.rescored } : null,
  };
}

/** The serving contract of the model document. */
function servingSchemaOf(model: ModelDocument): ModelSchema {
  try {
    return modelSchemaFor(model);
  } catch (error) {
    throw new ValidationError(`the model cannot be evaluated: ${(error as Error).message}`, { model: model.name });
  }
}

async function loadModel(context: EvaluateContext, modelBytes: Uint8Array, source: string): Promise<LoadedModel> {
  try {
    return await context.loadModel(modelBytes);
  } catch (error) {
    throw new ModelContractError(`${source}: onnxruntime cannot load its model.onnx: ${(error as Error).message}`, { source });
  }
}

interface ScoredChampion {
  readonly record: VersionRecord;
  readonly metrics: Record<string, number>;
  readonly rescored: boolean;
  readonly note: string;
}

/**
 * The production version's metrics on this holdout. When its artifact cannot be used (gone,
 * altered, no longer loadable, or built for other features) its metrics recorded at registration
 * stand in, and the report says so. Transient faults (throttling, 5xx) are thrown for a retry:
 * the verdict must not depend on them.
 */
async function scoreChampion(
  context: EvaluateContext,
  model: ModelDocument,
  schema: ModelSchema,
  holdout: Holdout,
): Promise<ScoredChampion | undefined> {
  const registered = await context.registry.getModel(model.name);
  if (registered?.productionVersion === undefined) return undefined;
  const record = await context.registry.getVersion(model.name, registered.productionVersion);
  if (!record) {
    throw new NotFoundError(
      `the registry names version ${registered.productionVersion} of "${model.name}" as production, but has no such version`,
      {
        modelName: model.name,
      },
    );
  }
  try {
    const champion = await loadModel(context, await fetchModelBytes(context.store, record), record.artifactUri);
    const quality = assessQuality(schema, holdout, await scoreHoldout(champion, schema, holdout, record.artifactUri));
    return { record, metrics: quality.metrics, rescored: true, note: `version ${record.version} re-scored on this holdout` };
  } catch (error) {
    if (!(error instanceof NotFoundError || error instanceof ArtifactIntegrityError || error instanceof ModelContractError)) throw error;
    const headline = new Set(HEADLINE_METRICS[model.problemType]);
    const recorded = Object.fromEntries(Object.entries(record.metrics).filter(([metric]) => headline.has(metric)));
    return {
      record,
      metrics: recorded,
      rescored: false,
      note: `version ${record.version} could not be re-scored on this holdout (${error.message}); compared with the metrics recorded when it was registered`,
    };
  }
}

/** Rows of the holdout, and per class label for classification (labels absent from the holdout count 0). */
function holdoutSizeOf(holdout: Holdout, schema: ModelSchema): { rows: number; classes?: Record<string, number> } {
  if (schema.problemType === 'regression') return { rows: holdout.rows };
  const labels = classLabelsOf(schema, schema.problemType === 'binary-classification' ? 2 : (schema.classLabels?.length ?? 0));
  const counts = new Array<number>(labels.length).fill(0);
  for (let row = 0; row < holdout.rows; row++) {
    const label = holdout.targets[row]!;
    if (label < counts.length) counts[label]!++;
  }
  return { rows: holdout.rows, classes: Object.fromEntries(labels.map((label, index) => [String(label), counts[index]!])) };
}
