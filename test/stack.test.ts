/**
 * The whole app as `cdk synth` builds it: cdk-nag (AwsSolutions, Serverless) and the
 * CloudFormation Guard plugin run on the real stack with bundled Lambdas and find nothing
 * unacknowledged; every acknowledgement carries a reason; every resource is tagged. Also in
 * endpoint mode, offline: the default serving image's build context is staged without Docker.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { Stack } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../contracts/platform-config';
import { createApp } from '../lib/app';
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
  const reportPath = path.join(outdir, 'validation-report.json');
  const report = () => (existsSync(reportPath) ? (JSON.parse(readFileSync(reportPath, 'utf8')) as ValidationReport) : undefined);
  return { ...mlopsApp, synth: () => mlopsApp.app.synth(), report };
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
    const report = synthesized.report();
    const violations = report?.pluginReports.flatMap((plugin) => plugin.violations) ?? [];
    expect(violations).toEqual([]);
  });

  it('justifies every acknowledged finding with a reason', () => {
    const suppressed = synthesized.report()?.pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []) ?? [];
    for (const violation of suppressed) {
      expect(violation.reason, violation.acknowledgedId).toMatch(/\w{3,}.*\w{3,}/);
    }
  });

  it("wires one Standard training pipeline per model to that model's own validate-data, evaluate-model and deploy functions", () => {
    const machines = Object.values(template.Resources).filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine') as any[];
    const training = machines.filter((machine) => machine.Properties.DefinitionSubstitutions?.ModelName === 'churn');
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

  it('fails synthesis when a resource breaks a rule, so the checks are really on', () => {
    const broken = synthesize((stack) => new s3.Bucket(stack, 'CarelessBucket'));
    expect(() => broken.synth()).toThrow(/server access logs disabled/);
    const rules = broken
      .report()!
      .pluginReports.flatMap((plugin) => plugin.violations as Array<{ ruleName: string }>)
      .map((v) => v.ruleName);
    expect(rules).toEqual(expect.arrayContaining(['AwsSolutions-S1', 'AwsSolutions-S10']));
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
    expect(report?.pluginReports.flatMap((plugin) => plugin.violations) ?? []).toEqual([]);
    for (const violation of report?.pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []) ?? []) {
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
