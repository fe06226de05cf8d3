/**
 * The platform configuration: the shipped default parses, every rule is enforced with a
 * message naming the field, and `cdk synth` on a bad config prints those lines, not a trace.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type PlatformConfigInput, parseConfig, resolveModel } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';

const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops as PlatformConfigInput;

/** The shipped config with one change applied. */
function variant(change: (config: Record<string, any>) => void): unknown {
  const config = structuredClone(shipped) as Record<string, any>;
  change(config);
  return config;
}

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('parseConfig', () => {
  it('accepts the default configuration shipped in cdk.json', () => {
    const config = parseConfig(shipped);
    expect(config.models.map((model) => model.name)).toEqual(['churn']);
    expect(config.training.instanceType).toBe('ml.g5.xlarge');
    expect(config.training.useSpot).toBe(true);
  });

  it('fills documented defaults for everything optional', () => {
    const config = parseConfig({
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
    });
    expect(config.training).toMatchObject({
      instanceType: 'ml.g5.xlarge',
      useSpot: true,
      maxRuntimeSeconds: 14_400,
      maxWaitSeconds: 28_800,
    });
    expect(config.serving).toMatchObject({
      mode: 'serverless',
      minInstances: 2,
      maxInstances: 10,
      canaryPercent: 10,
      latencyBudgetMs: 200,
    });
    expect(config.drift).toMatchObject({ psiWarn: 0.1, psiDrift: 0.25, ksPValue: 0.05, driftedFeatureShare: 0.5 });
    expect(config.drift).toMatchObject({ windowHours: 24, multipleTesting: 'benjamini-hochberg', featureThresholds: {} });
    expect(config).toMatchObject({ retentionDays: 90, logRetentionDays: 30, tags: {} });
    expect(config.models[0]!.thresholds).toEqual({ metrics: {}, disparateImpact: [0.8, 1.25], championMargin: 0.01, minHoldoutRows: 30 });
  });

  it('lets a model override part of a section and inherit the platform values for the rest', () => {
    const config = parseConfig(
      variant((c) => {
        c.serving.canaryPercent = 25;
        c.serving.imageUri = '123456789012.dkr.ecr.{region}.amazonaws.com/onnx-serving:1';
        c.models[0].serving = { mode: 'endpoint' };
      }),
    );
    const model = resolveModel(config, config.models[0]!);
    expect(model.serving).toMatchObject({
      mode: 'endpoint',
      canaryPercent: 25,
      instanceType: 'ml.c6i.large',
      imageUri: '123456789012.dkr.ecr.{region}.amazonaws.com/onnx-serving:1',
    });
    expect(model.features).toEqual(['tenure_months', 'monthly_charges', 'total_spend', 'support_calls', 'segment', 'contract']);
  });

  it('requires approval in the prod environment unless a model says otherwise, and leaves it optional elsewhere', () => {
    const prod = parseConfig({ ...structuredClone(shipped), environment: 'prod' });
    expect(resolveModel(prod, prod.models[0]!).approval).toBe('required');
    const dev = parseConfig(structuredClone(shipped));
    expect(resolveModel(dev, dev.models[0]!).approval).toBe('optional');
    const raw = structuredClone(shipped) as Record<string, any>;
    raw.models[0].approval = 'off';
    const off = parseConfig({ ...raw, environment: 'prod' });
    expect(resolveModel(off, off.models[0]!).approval).toBe('off');
    raw.models[0].approval = 'sometimes';
    expect(() => parseConfig(raw)).toThrow(/mlops.models\[0\].approval: /);
  });

  it('derives the model inputs from the columns when features are not listed', () => {
    const config = parseConfig(variant((c) => delete c.models[0].features));
    expect(resolveModel(config, config.models[0]!).features).not.toContain('churned');
    expect(resolveModel(config, config.models[0]!).features).not.toContain('gender');
  });

  it('accepts a JSON string, as `cdk synth -c mlops=...` passes it', () => {
    expect(parseConfig(JSON.stringify(shipped)).projectName).toBe('mlops');
  });

  it.each([
    ['a missing model name', (c: any) => delete c.models[0].name, 'mlops.models[0].name: is required'],
    [
      'a canary of 80%',
      (c: any) => (c.serving.canaryPercent = 80),
      'mlops.serving.canaryPercent: Too big: expected number to be <=50 (got 80)',
    ],
    [
      'max wait below max runtime with spot on',
      (c: any) => (c.training.maxWaitSeconds = 3600),
      'mlops.training.maxWaitSeconds: managed spot training needs maxWaitSeconds >= maxRuntimeSeconds (3600 < 14400)',
    ],
    [
      'an instance type not of the form ml.<family>.<size>',
      (c: any) => (c.training.instanceType = 'g5.xlarge'),
      'mlops.training.instanceType: must be a SageMaker instance type such as ml.g5.xlarge (ml.<family>.<size>) (got "g5.xlarge")',
    ],
    [
      'spot without checkpointing',
      (c: any) => (c.training.checkpointing = false),
      'mlops.training.checkpointing: managed spot training needs checkpointing, or an interruption restarts training from scratch',
    ],
    [
      'a max runtime over 28 days',
      (c: any) => (c.training.maxRuntimeSeconds = 28 * 86_400 + 1),
      'mlops.training.maxRuntimeSeconds: Too big: expected number to be <=2419200 (got 2419201)',
    ],
    [
      'a bake time over 3600 s',
      (c: any) => (c.serving.bakeTimeSeconds = 7200),
      'mlops.serving.bakeTimeSeconds: Too big: expected number to be <=3600 (got 7200)',
    ],
    [
      'an autoscaled burstable endpoint',
      (c: any) => (c.models[0].serving = { mode: 'endpoint', instanceType: 'ml.t3.medium' }),
      'mlops.models[0].serving.instanceType: burstable instances (ml.t3.medium) cannot autoscale; use another family or set minInstances = maxInstances',
    ],
    [
      'min instances above max instances',
      (c: any) => (c.serving.minInstances = 12),
      'mlops.serving.minInstances: must not exceed maxInstances (12 > 10)',
    ],
    [
      'a target that is not a column',
      (c: any) => (c.models[0].target = 'label'),
      'mlops.models[0].target: must name one of the columns (customer_id, tenure_months, monthly_charges, total_spend, support_calls, segment, contract, gender, churned), got "label"',
    ],
    [
      'a regression metric on a classifier',
      (c: any) => (c.models[0].thresholds.metrics.rmse = { max: 1 }),
      'mlops.models[0].thresholds.metrics.rmse: is not a binary-classification metric (use accuracy, precision, recall, f1, rocAuc)',
    ],
    [
      'a captured column the model does not have (model override)',
      (c: any) => (c.models[0].serving = { captureColumns: ['customer_id', 'email'] }),
      `mlops.models[0].serving.captureColumns[1]: must name one of model "churn"'s columns (customer_id, tenure_months, monthly_charges, total_spend, support_calls, segment, contract, gender, churned), got "email"`,
    ],
    [
      'a captured column the model does not have (platform-wide)',
      (c: any) => (c.serving.captureColumns = ['ssn']),
      `mlops.serving.captureColumns[0]: must name one of model "churn"'s columns (customer_id, tenure_months, monthly_charges, total_spend, support_calls, segment, contract, gender, churned), got "ssn"`,
    ],
    [
      'two models with one name',
      (c: any) => c.models.push(structuredClone(c.models[0])),
      'mlops.models[1].name: duplicate model name "churn"',
    ],
    ['an unknown key', (c: any) => (c.models[0].colour = 'red'), 'mlops.models[0]: Unrecognized key: "colour"'],
    [
      'a wrong environment',
      (c: any) => (c.environment = 'qa'),
      'mlops.environment: Invalid option: expected one of "dev"|"staging"|"prod" (got "qa")',
    ],
    [
      'a log retention CloudWatch does not offer',
      (c: any) => (c.logRetentionDays = 31),
      'mlops.logRetentionDays: must be one of the CloudWatch Logs retention periods: 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 31)',
    ],
    ['psiWarn above psiDrift', (c: any) => (c.drift.psiWarn = 0.5), 'mlops.drift.psiWarn: must not exceed psiDrift (0.5 > 0.25)'],
    [
      'feature thresholds for a column the model lacks',
      (c: any) => (c.models[0].drift = { featureThresholds: { salary: { psiDrift: 0.3 } } }),
      `mlops.models[0].drift.featureThresholds.salary: must name one of the model's columns (${shipped.models[0]!.columns.map((column) => column.name).join(', ')})`,
    ],
    [
      'a feature whose psiWarn exceeds its psiDrift',
      (c: any) => (c.models[0].drift = { featureThresholds: { [c.models[0].columns[0].name]: { psiWarn: 0.4, psiDrift: 0.3 } } }),
      `mlops.models[0].drift.featureThresholds.${shipped.models[0]!.columns[0]!.name}.psiWarn: must not exceed psiDrift (0.4 > 0.3)`,
    ],
    [
      'an unknown multiple-testing correction',
      (c: any) => (c.drift.multipleTesting = 'holm'),
      'mlops.drift.multipleTesting: Invalid option: expected one of "benjamini-hochberg"|"bonferroni"|"none" (got "holm")',
    ],
  ])('refuses %s with a message naming the field and the rule', (_case, change, expected) => {
    expect(issuesOf(variant(change))).toContain(expected);
  });

  it('reports every problem at once, not only the first', () => {
    const issues = issuesOf(
      variant((c) => {
        c.serving.canaryPercent = 80;
        c.training.instanceType = 'gpu';
      }),
    );
    expect(issues).toHaveLength(2);
  });

  it('explains a missing or malformed mlops context', () => {
    expect(issuesOf(undefined)).toEqual(['mlops: missing; add an "mlops" object to the "context" of cdk.json']);
    expect(issuesOf('{not json')[0]).toMatch(/^mlops: not valid JSON/);
  });
});

describe('instance prices', () => {
  it('refuses a training or endpoint instance type with no price, naming the type and the key to add, at the field that chose it', () => {
    expect(issuesOf(variant((c) => (c.training.instanceType = 'ml.g6.xlarge')))).toEqual([
      `mlops.training.instanceType: model "${shipped.models[0]!.name}"'s training uses ml.g6.xlarge, which has no price in the platform's table (us-east-1, 2026-12-01); add its on-demand USD per hour as "pricing": { "instanceHourUsd": { "ml.g6.xlarge": <price> } } in the mlops configuration`,
    ]);
    expect(
      issuesOf(
        variant((c) => {
          c.models[0].serving = { mode: 'endpoint', instanceType: 'ml.c7i.xlarge' };
          c.serving.imageUri = '123456789012.dkr.ecr.{region}.amazonaws.com/onnx-serving:1';
        }),
      ),
    ).toEqual([
      expect.stringMatching(/^mlops\.models\[0\]\.serving\.instanceType: model "\w+"'s endpoint uses ml\.c7i\.xlarge, which has no price/),
    ]);
  });

  it('reports a malformed instance type once, by its shape, not again for its missing price', () => {
    expect(
      issuesOf(
        variant((c) => {
          c.training.instanceType = 'gpu';
          c.models[0].serving = { mode: 'endpoint', instanceType: 'cpu' };
        }),
      ),
    ).toEqual([
      'mlops.training.instanceType: must be a SageMaker instance type such as ml.g5.xlarge (ml.<family>.<size>) (got "gpu")',
      'mlops.models[0].serving.instanceType: must be a SageMaker instance type such as ml.g5.xlarge (ml.<family>.<size>) (got "cpu")',
    ]);
  });

  it('needs no price for the serving type of a serverless model, and takes an override for any type', () => {
    expect(() => parseConfig(variant((c) => (c.serving.instanceType = 'ml.c7i.xlarge')))).not.toThrow();
    const config = parseConfig(
      variant((c) => {
        c.training.instanceType = 'ml.g6.xlarge';
        c.pricing = { instanceHourUsd: { 'ml.g6.xlarge': 0.9, 'ml.m5.xlarge': 0.2 } };
      }),
    );
    expect(config.pricing.instanceHourUsd).toEqual({ 'ml.g6.xlarge': 0.9, 'ml.m5.xlarge': 0.2 });
    expect(parseConfig(shipped).pricing).toEqual({ instanceHourUsd: {} });
  });

  it('refuses an override that is not a positive price or not a SageMaker instance type', () => {
    const issues = issuesOf(variant((c) => (c.pricing = { instanceHourUsd: { 'ml.m5.xlarge': 0, 'm5.xlarge': 0.2 } })));
    expect(issues).toHaveLength(2);
    expect(issues).toContainEqual(
      expect.stringMatching(/^mlops\.pricing\.instanceHourUsd\.ml\.m5\.xlarge: Too small: expected number to be >0/),
    );
    expect(issues).toContain(
      'mlops.pricing.instanceHourUsd.m5.xlarge: must be keyed by a SageMaker instance type such as ml.g5.xlarge, got "m5.xlarge"',
    );
    expect(issuesOf(variant((c) => (c.pricing = { instanceHourUsd: { 'ml.m5.xlarge': 1200 } })))).toEqual([
      expect.stringMatching(/^mlops\.pricing\.instanceHourUsd\.ml\.m5\.xlarge: Too big: expected number to be <=1000/),
    ]);
  });
});

describe('the CDK app entry point', () => {
  it('fails synthesis with the invalid fields listed and no stack trace', () => {
    const bad = variant((c) => {
      c.serving.canaryPercent = 80;
      delete c.models[0].name;
    });
    const result = spawnSync(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['bin/cdk-mlops.ts'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_CONTEXT_JSON: JSON.stringify({ mlops: bad }),
        CDK_OUTDIR: mkdtempSync(path.join(tmpdir(), 'cdk-mlops-bad-config-')),
      },
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Invalid cdk-mlops configuration (cdk.json context "mlops"):');
    expect(result.stderr).toContain('  - mlops.serving.canaryPercent: Too big: expected number to be <=50 (got 80)');
    expect(result.stderr).toContain('  - mlops.models[0].name: is required');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('per-model drift settings', () => {
  it('merge the platform drift section under the model override, per-feature thresholds included', () => {
    const feature = shipped.models[0]!.columns[0]!.name;
    const config = parseConfig(
      variant((c) => {
        c.drift = { ...c.drift, multipleTesting: 'bonferroni' };
        c.models[0].drift = { windowHours: 6, featureThresholds: { [feature]: { psiDrift: 0.4 } } };
      }),
    );
    const model = resolveModel(config, config.models[0]!);
    expect(model.drift).toMatchObject({
      windowHours: 6,
      multipleTesting: 'bonferroni',
      featureThresholds: { [feature]: { psiDrift: 0.4 } },
    });
  });
});
