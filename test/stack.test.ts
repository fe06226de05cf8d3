/**
 * The whole app as `cdk synth` builds it: cdk-nag (AwsSolutions, Serverless) and the
 * CloudFormation Guard plugin run on the real stack with bundled Lambdas and find nothing
 * unacknowledged; every acknowledgement carries a reason; every resource is tagged. Also in
 * endpoint mode, offline: the default serving image's build context is staged without Docker.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../contracts/platform-config';
import { applyPolicyChecks, createApp } from '../lib/app';
import { ENDPOINT_RESOURCE_TYPE } from '../lib/constructs/endpoint-resource';
import { withEndpointServing } from './iam/synth';
import { cdkJsonContext } from './support/cdk';

interface ValidationReport {
  pluginReports: Array<{
    pluginName: string;
    violations: unknown[];
    suppressedViolations?: Array<{ acknowledgedId: string; reason?: string }>;
  }>;
}

function synthesize(extra?: (stack: Stack) => void, configure?: (config: PlatformConfigInput) => PlatformConfigInput) {
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-synth-'));
  const { mlops, ...featureFlags } = cdkJsonContext;
  const rawConfig = configure ? configure(structuredClone(mlops) as PlatformConfigInput) : mlops;
  const mlopsApp = createApp({ rawConfig, appProps: { context: featureFlags, outdir } });
  extra?.(mlopsApp.stack);
  return { ...mlopsApp, synth: () => mlopsApp.app.synth(), report: () => validationReport(outdir) };
}

/**
 * The report the validation plugins wrote at synth; a synthesis that wrote none fails the test. A
 * plugin appears in it only with findings: `plugins` names those that must (the careless bucket's).
 */
function validationReport(outdir: string, plugins: readonly string[] = []): ValidationReport {
  const reportPath = path.join(outdir, 'validation-report.json');
  if (!existsSync(reportPath)) throw new Error(`no policy-validation report at ${reportPath}`);
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport;
  const reported = report.pluginReports.map((plugin) => plugin.pluginName);
  for (const plugin of plugins) {
    if (!reported.includes(plugin))
      throw new Error(`the policy-validation report has no ${plugin} report (plugins: ${reported.join(', ') || 'none'})`);
  }
  return report;
}

/**
 * Every acknowledged rule in the app with its reason, as Validations.of(x).acknowledge records it
 * (cdk-nag skips acknowledged rules without reporting them, so the report does not list them).
 */
function acknowledgements(app: App): [string, string][] {
  return app.node
    .findAll()
    .flatMap((construct) => construct.node.metadata)
    .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
    .flatMap((entry) => Object.entries(entry.data as Record<string, string>));
}

describe('the synthesized platform stack', () => {
  let synthesized: ReturnType<typeof synthesize>;
  let template: { Resources: Record<string, { Type: string; Properties?: { Tags?: Array<{ Key: string; Value: string }> } }> };

  // A full synthesis (every bundle): slow on a loaded machine.
  beforeAll(() => {
    synthesized = synthesize();
    const assembly = synthesized.synth();
    template = assembly.getStackByName(synthesized.stack.stackName).template;
  }, 180_000);

  it('passes cdk-nag and CloudFormation Guard with no unacknowledged finding', () => {
    const violations = synthesized.report().pluginReports.flatMap((plugin) => plugin.violations);
    expect(violations).toEqual([]);
  });

  it('justifies every acknowledged finding with a reason', () => {
    const acknowledged = acknowledgements(synthesized.app);
    expect(acknowledged.length).toBeGreaterThan(10);
    for (const [rule, reason] of acknowledged) expect(reason, rule).toMatch(/\w{3,}.*\w{3,}/);
    const suppressed = synthesized.report().pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []);
    for (const violation of suppressed) {
      expect(violation.reason, violation.acknowledgedId).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it("wires one Standard training pipeline per model to that model's own validate-data, evaluate-model and deploy functions", () => {
    const machines = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine') as any[];
    const training = machines.filter(
      (machine) =>
        machine.Properties.DefinitionSubstitutions?.ModelName === 'churn' && machine.Properties.DefinitionSubstitutions.DeployFunctionArn,
    );
    expect(training).toHaveLength(1);
    const substitutions = training[0].Properties.DefinitionSubstitutions;
    const logicalId = (value: any) => (value['Fn::GetAtt'] ?? [value.Ref])[0] as string;
    expect(logicalId(substitutions.ValidateDataFunctionArn)).toMatch(/^DataValidationchurnFunction/);
    expect(logicalId(substitutions.EvaluateModelFunctionArn)).toMatch(/^ModelEvaluationchurn/);
    expect(logicalId(substitutions.DeployFunctionArn)).toMatch(/^Servingchurn|^Serverlesschurn/);
    expect(substitutions.JobNamePrefix).toBe('mlops-dev-churn');
    expect(JSON.parse(Buffer.from(substitutions.ModelDocumentBase64, 'base64').toString('utf8'))).toMatchObject({
      name: 'churn',
      target: 'churned',
      sensitiveAttribute: 'gender',
    });
  });

  it("wires one batch inference pipeline per model to its own batch-score function and the model's drift check, started by POST /pipelines/batch", () => {
    const machines = Object.entries(template.Resources).filter(
      ([, resource]: [string, any]) => resource.Type === 'AWS::StepFunctions::StateMachine',
    );
    const batch = machines.filter(([, machine]: [string, any]) => machine.Properties.DefinitionSubstitutions?.BatchScoreFunctionArn);
    expect(batch).toHaveLength(1);
    const [machineId, machine] = batch[0] as [string, any];
    const substitutions = machine.Properties.DefinitionSubstitutions;
    expect(substitutions.ModelName).toBe('churn');
    expect(substitutions.BatchScoreFunctionArn['Fn::GetAtt'][0]).toMatch(/^BatchchurnScoreFunction/);
    expect(substitutions.CheckDriftFunctionArn['Fn::GetAtt'][0]).toMatch(/^DriftchurnCheckFunction/);
    // The API's StartExecution integration picks this machine for model "churn" on POST /pipelines/batch.
    const methods = Object.values(template.Resources).filter((resource: any) => resource.Type === 'AWS::ApiGateway::Method') as any[];
    const resources = template.Resources as Record<string, any>;
    const batchMethod = methods.find(
      (method) => method.Properties.HttpMethod === 'POST' && resources[method.Properties.ResourceId.Ref]?.Properties.PathPart === 'batch',
    );
    expect(batchMethod.Properties.Integration.Uri['Fn::Join'][1].join('')).toContain(':states:action/StartExecution');
    expect(JSON.stringify(batchMethod.Properties.Integration.RequestTemplates)).toContain(machineId);
  });

  it('names the stack after the project and environment', () => {
    expect(synthesized.stack.stackName).toBe('mlops-dev');
  });

  it('tags every taggable resource with Project, Environment and Owner', () => {
    const tagged = Object.entries(template.Resources).filter(([, resource]) => Array.isArray(resource.Properties?.Tags));
    expect(tagged.length).toBeGreaterThan(5);
    for (const [logicalId, resource] of tagged) {
      const tags = Object.fromEntries(resource.Properties!.Tags!.map((tag) => [tag.Key, tag.Value]));
      expect(tags, logicalId).toMatchObject({ Project: 'mlops', Environment: 'dev', Owner: 'platform-team', CostCenter: 'ml-platform' });
    }
  });
});

describe('policy validation', () => {
  it("fails synthesis when a resource breaks a rule, so the platform's checks are really on", () => {
    // A tiny app with the platform's plugins (applyPolicyChecks, as createApp registers them) and one careless bucket.
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-nag-'));
    const app = new App({ outdir });
    applyPolicyChecks(app);
    new s3.Bucket(new Stack(app, 'Careless'), 'CarelessBucket');
    expect(() => app.synth()).toThrow(/server access logs disabled/);
    const violations = validationReport(outdir, ['AwsSolutions', 'cdk-validator-cfnguard']).pluginReports.flatMap((plugin) =>
      (plugin.violations as Array<{ ruleName: string }>).map((violation) => `${plugin.pluginName}: ${violation.ruleName}`),
    );
    expect(violations).toEqual(expect.arrayContaining(['AwsSolutions: AwsSolutions-S1', 'AwsSolutions: AwsSolutions-S10']));
    expect(violations.some((violation) => violation.startsWith('cdk-validator-cfnguard: '))).toBe(true);
  });

  it('refuses the report of a synthesis no plugin ran in', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-nag-'));
    const app = new App({ outdir });
    new s3.Bucket(new Stack(app, 'Careless'), 'CarelessBucket');
    app.synth();
    expect(() => validationReport(outdir, ['AwsSolutions'])).toThrow(
      'the policy-validation report has no AwsSolutions report (plugins: none)',
    );
  });
});

describe('the synthesized platform stack in endpoint mode (default serving image, no initial model)', () => {
  let synthesized: ReturnType<typeof synthesize>;
  let assembly: ReturnType<ReturnType<typeof synthesize>['synth']>;

  // A second full synthesis, with the serving image's context staged.
  beforeAll(() => {
    synthesized = synthesize(undefined, withEndpointServing);
    assembly = synthesized.synth();
  }, 180_000);

  it('passes cdk-nag and CloudFormation Guard with no unacknowledged finding, every acknowledgement with a reason', () => {
    const report = synthesized.report();
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
    for (const [rule, reason] of acknowledgements(synthesized.app)) expect(reason, rule).toMatch(/\w{3,}.*\w{3,}/);
    for (const violation of report.pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? [])) {
      expect(violation.reason, violation.acknowledgedId).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it('stages the serving image’s build context as a Docker image asset, built only when `cdk deploy` publishes it', () => {
    const artifact = assembly.getStackByName(synthesized.stack.stackName);
    const manifest = JSON.parse(readFileSync(path.join(assembly.directory, `${artifact.id}.assets.json`), 'utf8')) as {
      dockerImages: Record<string, { source: { directory: string; platform?: string } }>;
    };
    const images = Object.values(manifest.dockerImages);
    expect(images).toHaveLength(1);
    expect(images[0]!.source.platform).toBe('linux/amd64');
    expect(existsSync(path.join(assembly.directory, images[0]!.source.directory, 'server.mjs'))).toBe(true);
    const types = Object.values(artifact.template.Resources as Record<string, { Type: string }>).map((resource) => resource.Type);
    expect(types).toContain(ENDPOINT_RESOURCE_TYPE);
    expect(types).not.toContain('AWS::SageMaker::Endpoint');
  });
});
