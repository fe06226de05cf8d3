/**
 * Drift monitoring: the settings a platform or model configures (schedule, window, thresholds,
 * multiple-testing correction, cool-down), their defaults, and what the check-drift function is
 * told of its model (`DriftModelSettings`, derived by `driftSettingsOf`, parsed by the function
 * with `driftModelSettingsSchema`). One schema of each threshold for the configuration, the
 * construct and the function.
 */
import * as z from 'zod';
import { COLUMN_TYPES, type ColumnType } from './columns';
import { fractionSchema, type SettingProblem } from './fields';

/** Corrections of the per-feature p-values for testing many features at once. */
export const MULTIPLE_TESTING_CORRECTIONS = ['benjamini-hochberg', 'bonferroni', 'none'] as const;
export type MultipleTesting = (typeof MULTIPLE_TESTING_CORRECTIONS)[number];

/** EventBridge schedule expressions. */
const SCHEDULE_PATTERN = /^(rate\(\d+ (minute|minutes|hour|hours|day|days)\)|cron\(.+\))$/;
/** The longest capture window one check profiles (two weeks). */
export const MAX_WINDOW_HOURS = 24 * 14;

/** The thresholds a feature is judged by. */
const thresholdsShape = {
  psiWarn: z.number().positive().describe('PSI at which a feature warns (≤ psiDrift)'),
  psiDrift: z.number().positive().describe('PSI at which a feature drifts (when beyond sampling noise)'),
  ksPValue: fractionSchema.describe('significance level of the KS and chi-square tests (after correction)'),
  jsDistance: fractionSchema.describe('Jensen–Shannon distance at which a feature drifts (when beyond sampling noise)'),
};

/** Per-feature drift thresholds; a feature's own entry overrides the model's values field by field. */
export const featureThresholdsSchema = z.object(thresholdsShape).partial().strict();

export const driftShape = {
  schedule: z
    .string()
    .regex(SCHEDULE_PATTERN, 'must be an EventBridge schedule: rate(<n> <unit>) or cron(...)')
    .describe('when the drift check runs: `rate(...)` or `cron(...)`'),
  windowHours: z
    .number()
    .int()
    .min(1)
    .max(MAX_WINDOW_HOURS)
    .describe('each check profiles the capture of the last windowHours, ending at the scheduled time'),
  minSampleSize: z.number().int().min(1).describe('captured rows below which a check gives no verdict'),
  ...thresholdsShape,
  multipleTesting: z
    .enum(MULTIPLE_TESTING_CORRECTIONS)
    .describe("how the features' KS / chi-square (and PSI / JS noise) p-values are corrected for testing many at once"),
  featureThresholds: z
    .record(z.string().min(1), featureThresholdsSchema)
    .describe("`{ <column>: { psiWarn, psiDrift, ksPValue, jsDistance } }`, any subset; must name the model's columns"),
  driftedFeatureShare: fractionSchema.describe('share of features that must drift for the dataset to count as drifted'),
  retrainCooldownHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .describe('one drift episode starts at most one retraining within this many hours'),
};

const driftSettingsObject = z.object(driftShape);
export type DriftConfig = z.output<typeof driftSettingsObject>;
export type DriftThresholds = Pick<DriftConfig, 'psiWarn' | 'psiDrift' | 'ksPValue' | 'jsDistance'>;

export const DRIFT_DEFAULTS: DriftConfig = {
  schedule: 'rate(1 hour)',
  windowHours: 24,
  minSampleSize: 1000,
  psiWarn: 0.1,
  psiDrift: 0.25,
  ksPValue: 0.05,
  jsDistance: 0.1,
  multipleTesting: 'benjamini-hochberg',
  featureThresholds: {},
  driftedFeatureShare: 0.5,
  retrainCooldownHours: 24,
};

export const driftOverridesSchema = driftSettingsObject.partial().strict();
export const driftSettingsSchema = driftOverridesSchema.transform((drift): DriftConfig => ({ ...DRIFT_DEFAULTS, ...drift }));

/** The verdict's rules: the thresholds, the sample size below which there is no verdict, the share that drifts a dataset. */
export const driftRulesSchema = driftSettingsObject.pick({
  psiWarn: true,
  psiDrift: true,
  ksPValue: true,
  jsDistance: true,
  minSampleSize: true,
  driftedFeatureShare: true,
  multipleTesting: true,
  featureThresholds: true,
});
export type DriftRules = z.output<typeof driftRulesSchema>;

/** What check-drift knows of its model (the DRIFT_SETTINGS environment variable). */
export const driftModelSettingsSchema = z.object({
  name: z.string().min(1),
  /** Model inputs in feature order (array inputs are read by position). */
  features: z.array(z.object({ name: z.string().min(1), type: z.enum(COLUMN_TYPES), critical: z.boolean() })).min(1),
  /** The training target, the reference of prediction drift. */
  target: z.object({ name: z.string().min(1), type: z.enum(COLUMN_TYPES) }).optional(),
  windowHours: driftShape.windowHours,
  rules: driftRulesSchema,
});
export type DriftModelSettings = z.output<typeof driftModelSettingsSchema>;

/** What driftSettingsOf needs of a model: its columns, target, features and merged drift settings. */
export interface DriftSettingsSource {
  readonly name: string;
  readonly columns: readonly { readonly name: string; readonly type: ColumnType; readonly critical: boolean }[];
  readonly target: string;
  readonly features: readonly string[];
  readonly drift: DriftConfig;
}

/** What check-drift needs of the model, from the configuration (columns' types, critical flags, thresholds). */
export function driftSettingsOf(model: DriftSettingsSource): DriftModelSettings {
  const column = (name: string) => model.columns.find((candidate) => candidate.name === name)!;
  const target = column(model.target);
  const { drift } = model;
  return {
    name: model.name,
    features: model.features.map((name) => ({ name, type: column(name).type, critical: column(name).critical })),
    target: { name: target.name, type: target.type },
    windowHours: drift.windowHours,
    rules: {
      psiWarn: drift.psiWarn,
      psiDrift: drift.psiDrift,
      ksPValue: drift.ksPValue,
      jsDistance: drift.jsDistance,
      minSampleSize: drift.minSampleSize,
      driftedFeatureShare: drift.driftedFeatureShare,
      multipleTesting: drift.multipleTesting,
      featureThresholds: drift.featureThresholds,
    },
  };
}

/** A warning threshold above the drift threshold would never warn. */
export function driftThresholdProblems(drift: Pick<DriftConfig, 'psiWarn' | 'psiDrift'>): SettingProblem[] {
  return drift.psiWarn > drift.psiDrift
    ? [{ path: ['psiWarn'], message: `must not exceed psiDrift (${drift.psiWarn} > ${drift.psiDrift})` }]
    : [];
}

/** Feature thresholds must name the model's columns and keep warn ≤ drift. */
export function featureThresholdProblems(
  columns: readonly { readonly name: string }[],
  thresholds: DriftConfig['featureThresholds'],
): SettingProblem[] {
  const names = columns.map((column) => column.name);
  const problems: SettingProblem[] = [];
  for (const [feature, values] of Object.entries(thresholds)) {
    if (!names.includes(feature)) {
      problems.push({ path: ['featureThresholds', feature], message: `must name one of the model's columns (${names.join(', ')})` });
    }
    if (values.psiWarn !== undefined && values.psiDrift !== undefined) {
      for (const problem of driftThresholdProblems({ psiWarn: values.psiWarn, psiDrift: values.psiDrift })) {
        problems.push({ path: ['featureThresholds', feature, ...problem.path], message: problem.message });
      }
    }
  }
  return problems;
}
