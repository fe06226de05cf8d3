/**
 * The configuration figures docs/configuration.md states: every default at its value, and every
 * numeric or length limit accepted at its value and refused one past it (projectName at most 24
 * characters, a model name at most 48, drift.windowHours 1 to 336, and the rest in one table).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type PlatformConfigInput, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';

const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops as PlatformConfigInput;

/** The issues parseConfig names for the shipped config with one change, [] when it accepts it. */
function issuesWith(change: (config: Record<string, any>) => void): string[] {
  const config = structuredClone(shipped) as Record<string, any>;
  change(config);
  try {
    parseConfig(config);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
}

const name = (length: number) => `a${'b'.repeat(length - 1)}`;

describe('configuration limits, at the values docs/configuration.md states', () => {
  const projectName = (value: string) =>
    issuesWith((c) => {
      c.projectName = value;
    });
  const modelName = (value: string) =>
    issuesWith((c) => {
      c.models[0].name = value;
    });
  const windowHours = (hours: number) =>
    issuesWith((c) => {
      c.drift = { ...c.drift, windowHours: hours };
    });

  it('projectName: at most 24 characters', () => {
    expect(projectName(name(24))).toEqual([]);
    expect(projectName(name(25))).toEqual([expect.stringMatching(/^mlops\.projectName: .*24/)]);
  });

  it('models[].name: at most 48 characters', () => {
    expect(modelName(name(48))).toEqual([]);
    expect(modelName(name(49))).toEqual([expect.stringMatching(/^mlops\.models\[0\]\.name: .*48/)]);
  });

  it('drift.windowHours: 1 to 336', () => {
    for (const hours of [1, 336]) expect(windowHours(hours), String(hours)).toEqual([]);
    expect(windowHours(0)).toEqual([expect.stringMatching(/^mlops\.drift\.windowHours: .*1/)]);
    expect(windowHours(337)).toEqual([expect.stringMatching(/^mlops\.drift\.windowHours: .*336/)]);
  });
});

/** The smallest configuration: every optional field left to its default. */
const minimal = {
  projectName: 'mini',
  environment: 'dev',
  owner: 'me',
  training: { imageUri: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/trainer:1' },
  models: [
    {
      name: 'm',
      problemType: 'regression',
      target: 'y',
      columns: [
        { name: 'y', type: 'number' },
        { name: 'x', type: 'number' },
      ],
    },
  ],
} as const;

describe('configuration defaults, at the values docs/configuration.md states', () => {
  const config = parseConfig(structuredClone(minimal) as unknown as PlatformConfigInput);

  it('platform: retention 90 days, logs 30 days, a budget of $500, no tags', () => {
    expect({
      tags: config.tags,
      retentionDays: config.retentionDays,
      logRetentionDays: config.logRetentionDays,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
    }).toEqual({ tags: {}, retentionDays: 90, logRetentionDays: 30, monthlyBudgetUsd: 500 });
  });

  it('training: one ml.g5.xlarge with 50 GB on spot, 4 h to train and 8 h in all, checkpointed, train.py, started by hand', () => {
    expect(config.training).toEqual({
      imageUri: minimal.training.imageUri,
      instanceType: 'ml.g5.xlarge',
      instanceCount: 1,
      volumeSizeGb: 50,
      useSpot: true,
      maxRuntimeSeconds: 14_400,
      maxWaitSeconds: 28_800,
      checkpointing: true,
      entryPoint: 'train.py',
      trigger: 'manual',
    });
  });

  it('serving: serverless, a 10% canary baked 10 minutes, 200 ms p99, 20% captured, no shadow phase unless asked (then 900 s, 100 requests, 90% agreement, 5% tolerance)', () => {
    expect(config.serving).toEqual({
      mode: 'serverless',
      instanceType: 'ml.c6i.large',
      minInstances: 2,
      maxInstances: 10,
      targetInvocationsPerInstance: 1000,
      canaryPercent: 10,
      bakeTimeSeconds: 600,
      latencyBudgetMs: 200,
      dataCapturePercent: 20,
      idleHours: 24,
      captureColumns: [],
      shadowPercent: 0,
      shadowSeconds: 900,
      minShadowRequests: 100,
      minShadowAgreement: 0.9,
      shadowTolerance: 0.05,
    });
  });

  it('drift: hourly over 24 h, 1000 rows at least, PSI 0.1 / 0.25, p < 0.05, JS 0.1, half the features, one retraining a day', () => {
    expect(config.drift).toEqual({
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
    });
  });

  it('a model: at least 1 row, at most 1% bad rows, the target required; disparate impact within [0.8, 1.25], a champion margin of 0.01, 30 holdout rows', () => {
    const model = config.models[0]!;
    expect(model.dataset).toEqual({ minRows: 1, maxBadRowFraction: 0.01, requireTarget: true });
    expect(model.thresholds).toEqual({ metrics: {}, disparateImpact: [0.8, 1.25], championMargin: 0.01, minHoldoutRows: 30 });
    expect(model.columns[1]).toEqual({ name: 'x', type: 'number', nullable: false, unique: false, critical: false });
  });
});

/**
 * One row per numeric or length limit of docs/configuration.md: values the page allows are
 * accepted and the first value past each end refused at that field. `also` sets what a
 * cross-field rule needs for the bound to be reachable (minInstances ≤ maxInstances, …).
 */
const limits: {
  field: string;
  accepted: unknown[];
  refused: unknown[];
  set: (config: Record<string, any>, value: any) => void;
}[] = [
  { field: 'owner', accepted: ['o'.repeat(256)], refused: ['', 'o'.repeat(257)], set: (c, v) => (c.owner = v) },
  { field: 'namePrefix', accepted: [name(32)], refused: [name(33)], set: (c, v) => (c.namePrefix = v) },
  { field: 'retentionDays', accepted: [1, 3650], refused: [0, 3651, 1.5], set: (c, v) => (c.retentionDays = v) },
  { field: 'logRetentionDays', accepted: [1, 3653], refused: [2, 3654], set: (c, v) => (c.logRetentionDays = v) },
  { field: 'monthlyBudgetUsd', accepted: [0.01], refused: [0], set: (c, v) => (c.monthlyBudgetUsd = v) },
  { field: 'training.instanceCount', accepted: [1, 100], refused: [0, 101], set: (c, v) => (c.training.instanceCount = v) },
  { field: 'training.volumeSizeGb', accepted: [1, 16_384], refused: [0, 16_385], set: (c, v) => (c.training.volumeSizeGb = v) },
  {
    field: 'training.maxRuntimeSeconds',
    accepted: [60, 2_419_200],
    refused: [59, 2_419_201],
    set: (c, v) => Object.assign(c.training, { maxRuntimeSeconds: v, maxWaitSeconds: 4_838_400 }),
  },
  {
    field: 'training.maxWaitSeconds',
    accepted: [60, 4_838_400],
    refused: [59, 4_838_401],
    set: (c, v) => Object.assign(c.training, { maxRuntimeSeconds: 60, maxWaitSeconds: v }),
  },
  {
    field: 'serving.minInstances',
    accepted: [1, 100],
    refused: [0, 101],
    set: (c, v) => Object.assign(c.serving, { minInstances: v, maxInstances: 100 }),
  },
  {
    field: 'serving.maxInstances',
    accepted: [1, 100],
    refused: [0, 101],
    set: (c, v) => Object.assign(c.serving, { minInstances: 1, maxInstances: v }),
  },
  {
    field: 'serving.targetInvocationsPerInstance',
    accepted: [1],
    refused: [0],
    set: (c, v) => (c.serving.targetInvocationsPerInstance = v),
  },
  { field: 'serving.canaryPercent', accepted: [1, 50], refused: [0, 51], set: (c, v) => (c.serving.canaryPercent = v) },
  { field: 'serving.bakeTimeSeconds', accepted: [0, 3600], refused: [-1, 3601], set: (c, v) => (c.serving.bakeTimeSeconds = v) },
  { field: 'serving.latencyBudgetMs', accepted: [0.5], refused: [0], set: (c, v) => (c.serving.latencyBudgetMs = v) },
  { field: 'serving.dataCapturePercent', accepted: [0, 100], refused: [-1, 101], set: (c, v) => (c.serving.dataCapturePercent = v) },
  { field: 'serving.idleHours', accepted: [1, 168], refused: [0, 169], set: (c, v) => (c.serving.idleHours = v) },
  {
    field: 'serving.captureColumns',
    accepted: [Array(50).fill('customer_id')],
    refused: [Array(51).fill('customer_id')],
    set: (c, v) => (c.serving.captureColumns = v),
  },
  { field: 'serving.shadowPercent', accepted: [0, 100], refused: [-1, 101], set: (c, v) => (c.serving.shadowPercent = v) },
  { field: 'serving.shadowSeconds', accepted: [0, 86_400], refused: [-1, 86_401], set: (c, v) => (c.serving.shadowSeconds = v) },
  { field: 'serving.minShadowRequests', accepted: [1], refused: [0], set: (c, v) => (c.serving.minShadowRequests = v) },
  { field: 'serving.minShadowAgreement', accepted: [0, 1], refused: [-0.01, 1.01], set: (c, v) => (c.serving.minShadowAgreement = v) },
  { field: 'serving.shadowTolerance', accepted: [0], refused: [-0.01], set: (c, v) => (c.serving.shadowTolerance = v) },
  { field: 'drift.minSampleSize', accepted: [1], refused: [0], set: (c, v) => (c.drift.minSampleSize = v) },
  { field: 'drift.psiWarn', accepted: [0.001], refused: [0], set: (c, v) => (c.drift.psiWarn = v) },
  {
    field: 'drift.psiDrift',
    accepted: [0.001],
    refused: [0],
    set: (c, v) => Object.assign(c.drift, { psiWarn: 0.001, psiDrift: v }),
  },
  { field: 'drift.ksPValue', accepted: [0, 1], refused: [-0.01, 1.01], set: (c, v) => (c.drift.ksPValue = v) },
  { field: 'drift.jsDistance', accepted: [0, 1], refused: [-0.01, 1.01], set: (c, v) => (c.drift.jsDistance = v) },
  { field: 'drift.driftedFeatureShare', accepted: [0, 1], refused: [-0.01, 1.01], set: (c, v) => (c.drift.driftedFeatureShare = v) },
  { field: 'drift.retrainCooldownHours', accepted: [1, 720], refused: [0, 721], set: (c, v) => (c.drift.retrainCooldownHours = v) },
  { field: 'api.stageName', accepted: ['v', 'v'.repeat(64)], refused: ['', 'v'.repeat(65)], set: (c, v) => (c.api = { stageName: v }) },
  // The burst may be below the rate (AWS's own account default: 10,000 per second, a burst of 5,000).
  {
    field: 'api.throttleRatePerSecond',
    accepted: [0.5, 10_000],
    refused: [0, 10_001],
    set: (c, v) => (c.api = { throttleRatePerSecond: v, throttleBurst: 5000 }),
  },
  {
    field: 'api.throttleBurst',
    accepted: [1, 5000],
    refused: [0, 5001],
    set: (c, v) => (c.api = { throttleRatePerSecond: 1, throttleBurst: v }),
  },
  { field: 'api.quotaPerDay', accepted: [1], refused: [0], set: (c, v) => (c.api = { quotaPerDay: v }) },
  {
    field: 'api.wafRateLimitPer5Minutes',
    accepted: [10, 2_000_000_000],
    refused: [9, 2_000_000_001],
    set: (c, v) => (c.api = { wafRateLimitPer5Minutes: v }),
  },
  {
    field: 'training.tuning.maxJobs',
    accepted: [1, 10_000],
    refused: [0, 10_001],
    set: (c, v) => tune(c, { strategy: 'Random', maxJobs: v, maxParallelJobs: 1 }),
  },
  {
    field: 'training.tuning.maxParallelJobs',
    accepted: [1, 100],
    refused: [0, 101],
    set: (c, v) => tune(c, { maxJobs: 100, maxParallelJobs: v }),
  },
  {
    field: 'training.tuning.maxRuntimeSeconds',
    accepted: [120, 2_592_000],
    refused: [119, 2_592_001],
    set: (c, v) => tune(c, { maxRuntimeSeconds: v }),
  },
  {
    field: 'training.tuning.randomSeed',
    accepted: [0, 2_147_483_647],
    refused: [-1, 2_147_483_648],
    set: (c, v) => tune(c, { randomSeed: v }),
  },
  {
    field: 'training.tuning.parameters.batch_size.values',
    accepted: [[64], Array.from({ length: 30 }, (_, i) => i + 1)],
    refused: [[], Array.from({ length: 31 }, (_, i) => i + 1)],
    set: (c, v) => tune(c, { parameters: { batch_size: { type: 'categorical', values: v } } }),
  },
  { field: 'models[0].columns', accepted: [], refused: [[]], set: (c, v) => (c.models[0].columns = v) },
  { field: 'models[0].features', accepted: [['tenure_months']], refused: [[]], set: (c, v) => (c.models[0].features = v) },
  {
    field: 'models[0].columns[0].name',
    accepted: [name(128)],
    refused: ['', name(129)],
    set: (c, v) => (c.models[0].columns[0].name = v),
  },
  {
    field: 'models[0].columns[5].allowedValues',
    accepted: [['consumer', 'business', 'enterprise']],
    refused: [[]],
    set: (c, v) => (c.models[0].columns[5].allowedValues = v),
  },
  {
    field: 'models[0].columns[0].regex',
    accepted: [`^${'a'.repeat(1022)}$`],
    refused: ['', `^${'a'.repeat(1023)}$`],
    set: (c, v) => (c.models[0].columns[0].regex = v),
  },
  { field: 'models[0].dataset.delimiter', accepted: [';'], refused: [';;'], set: (c, v) => (c.models[0].dataset = { delimiter: v }) },
  { field: 'models[0].dataset.minRows', accepted: [0], refused: [-1], set: (c, v) => (c.models[0].dataset = { minRows: v }) },
  { field: 'models[0].dataset.maxRows', accepted: [1], refused: [0], set: (c, v) => (c.models[0].dataset = { minRows: 1, maxRows: v }) },
  {
    field: 'models[0].dataset.maxBadRowFraction',
    accepted: [0, 1],
    refused: [-0.01, 1.01],
    set: (c, v) => (c.models[0].dataset = { maxBadRowFraction: v }),
  },
  {
    field: 'models[0].thresholds.championMargin',
    accepted: [0, 1],
    refused: [-0.01, 1.01],
    set: (c, v) => (c.models[0].thresholds = { championMargin: v }),
  },
  {
    field: 'models[0].thresholds.minHoldoutRows',
    accepted: [1],
    refused: [0],
    set: (c, v) => (c.models[0].thresholds = { minHoldoutRows: v }),
  },
  // configuration.md's models[].split: each fraction under 1, and their sum too (refused on validationFraction).
  {
    field: 'models[0].split.holdoutFraction',
    accepted: [0.000001, 0.899999],
    refused: [0, 1],
    set: (c, v) => (c.models[0].split = { holdoutFraction: v, validationFraction: 0.1 }),
  },
  {
    field: 'models[0].split.validationFraction',
    accepted: [0, 0.799999],
    refused: [-0.01, 0.8, 1],
    set: (c, v) => (c.models[0].split = { holdoutFraction: 0.2, validationFraction: v }),
  },
  {
    field: 'models[0].split.seed',
    accepted: [0, 2 ** 31 - 1],
    refused: [-1, 2 ** 31, 1.5],
    set: (c, v) => (c.models[0].split = { seed: v }),
  },
];

function tune(config: Record<string, any>, tuning: Record<string, unknown>): void {
  config.training.tuning = { parameters: { learning_rate: { type: 'continuous', min: 0.001, max: 0.1 } }, ...tuning };
}

describe('every numeric and length limit docs/configuration.md states', () => {
  it.each(limits)('$field: accepted within the stated limits, refused one past them', ({ field, accepted, refused, set }) => {
    for (const value of accepted)
      expect(
        issuesWith((c) => set(c, value)),
        `${field} = ${JSON.stringify(value)}`,
      ).toEqual([]);
    for (const value of refused) {
      expect(
        issuesWith((c) => set(c, value)),
        `${field} = ${JSON.stringify(value)}`,
      ).toContainEqual(expect.stringMatching(new RegExp(`^mlops\\.${field.replace(/[.[\]]/g, '\\$&')}: `)));
    }
  });
});
