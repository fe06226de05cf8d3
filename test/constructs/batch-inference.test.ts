/**
 * Template assertions for BatchInference: the batch-score function (the model's schema, the
 * registry, the capture bucket and the buckets its inputs and outputs must be in, the ONNX layer), its least-privilege grants
 * per model, and the state machine from the ASL file with its substitutions, Lambda invocations
 * and the Distributed Map's permissions on its own executions only.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { type PlatformConfigInput, parseConfig, resolveModel } from '../../contracts/platform-config';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { BatchInference } from '../../lib/constructs/batch-inference';
import { ModelRegistry } from '../../lib/constructs/model-registry';

const cdkJson = JSON.parse(readFileSync(path.join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8')) as {
  context: { mlops: PlatformConfigInput };
};
const { mlops: _mlops, ...featureFlags } = cdkJson.context as Record<string, unknown>;

type Statement = { Action: string | string[]; Resource: unknown };

describe('BatchInference', () => {
  const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'Test');
  const config = parseConfig(cdkJson.context.mlops);
  const model = resolveModel(config, config.models[0]!);
  const artifactStore = new ArtifactStore(stack, 'Store');
  const registry = new ModelRegistry(stack, 'Registry', { modelNames: [model.name] });
  const checkDriftFunction = lambda.Function.fromFunctionArn(
    stack,
    'Drift',
    'arn:aws:lambda:us-east-1:123456789012:function:churn-check-drift',
  );
  const batch = new BatchInference(stack, 'Batch', { model, artifactStore, registry, checkDriftFunction });
  const template = Template.fromStack(stack);
  const logicalId = (construct: { node: { defaultChild?: unknown } }) => stack.getLogicalId(construct.node.defaultChild as never);
  const statementsOf = (role: unknown): Statement[] =>
    Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalId(role as never) }] } })).flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement,
    );

  it('runs batch-score on arm64 with the ONNX layer, 2 GB, 15 minutes, and the model schema and its buckets in its environment', () => {
    const properties = (template.toJSON().Resources[logicalId(batch.scoreFunction)] as { Properties: Record<string, any> }).Properties;
    expect(properties).toMatchObject({ Architectures: ['arm64'], MemorySize: 2048, Timeout: 900 });
    expect(properties.Layers).toHaveLength(1);
    const variables = properties.Environment.Variables;
    expect(JSON.parse(variables.MODEL_SCHEMA)).toEqual(modelSchemaFor(model));
    expect(variables.TABLE_NAME).toEqual({ Ref: expect.stringMatching(/^RegistryTable/) });
    expect(variables.CAPTURE_BUCKET).toEqual({ Ref: expect.stringMatching(/^StoreCapture/) });
    // The buckets its location check names: the ones its role reads inputs from and writes outputs to.
    expect(variables.DATASETS_BUCKET).toEqual({ Ref: expect.stringMatching(/^StoreDatasets/) });
    expect(variables.ARTIFACTS_BUCKET).toEqual({ Ref: expect.stringMatching(/^StoreArtifacts/) });
  });

  it("lets batch-score read only the model's datasets and artifacts, and write only its batch output and capture prefixes", () => {
    const statements = statementsOf(batch.scoreFunction.role);
    const objectArns = (action: string) =>
      statements
        .filter((statement) => [statement.Action].flat().includes(action))
        .flatMap((statement) => [statement.Resource].flat())
        .map((resource) => JSON.stringify(resource));
    const reads = objectArns('s3:GetObject');
    expect(reads).toHaveLength(2);
    expect(reads.some((arn) => arn.includes('StoreDatasets') && arn.includes(`/${model.name}/*`))).toBe(true);
    expect(reads.some((arn) => arn.includes('StoreArtifacts') && arn.includes(`/models/${model.name}/*`))).toBe(true);
    const writes = objectArns('s3:PutObject');
    expect(writes).toHaveLength(2);
    expect(writes.some((arn) => arn.includes('StoreArtifacts') && arn.includes(`/batch/${model.name}/*`))).toBe(true);
    expect(writes.some((arn) => arn.includes('StoreCapture') && arn.includes(`/${model.name}/batch/*`))).toBe(true);
    const actions = statements.flatMap((statement) => [statement.Action].flat());
    expect(actions).toContain('dynamodb:GetItem');
    expect(actions.filter((action) => /Delete|dynamodb:(Put|Update)|Invoke/.test(action))).toEqual([]);
  });

  it('deploys the ASL file with the model, both functions and the capture bucket substituted', () => {
    const machine = template.toJSON().Resources[logicalId(batch.stateMachine)] as { Properties: Record<string, any> };
    expect(machine.Properties.StateMachineType).toBe('STANDARD');
    expect(machine.Properties.DefinitionSubstitutions).toEqual({
      ModelName: model.name,
      BatchScoreFunctionArn: { 'Fn::GetAtt': [logicalId(batch.scoreFunction), 'Arn'] },
      CheckDriftFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:churn-check-drift',
      CaptureBucket: { Ref: expect.stringMatching(/^StoreCapture/) },
    });
    expect(machine.Properties.TracingConfiguration).toEqual({ Enabled: true });
  });

  it('lets the state machine invoke exactly its two functions and start and watch only its own child executions', () => {
    const statements = statementsOf(batch.stateMachine.role);
    const invoke = statements.find((statement) => statement.Action === 'lambda:InvokeFunction');
    expect(invoke?.Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [logicalId(batch.scoreFunction), 'Arn'] },
        'arn:aws:lambda:us-east-1:123456789012:function:churn-check-drift',
      ]),
    );
    expect(invoke?.Resource).toHaveLength(2);
    const start = statements.find((statement) => statement.Action === 'states:StartExecution');
    expect(start?.Resource).toEqual({ Ref: logicalId(batch.stateMachine) });
    const watch = statements.find(
      (statement) => JSON.stringify(statement.Action) === JSON.stringify(['states:DescribeExecution', 'states:StopExecution']),
    );
    expect(JSON.stringify(watch?.Resource)).toContain(':execution:');
  });

  it('passes cdk-nag and CloudFormation Guard: every finding on its resources acknowledged with a reason', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-batch-'));
    try {
      const checked = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] }, outdir });
      const checkedStack = new Stack(checked, 'Checked');
      const store = new ArtifactStore(checkedStack, 'Store');
      const models = new ModelRegistry(checkedStack, 'Registry', { modelNames: [model.name] });
      const drift = lambda.Function.fromFunctionArn(
        checkedStack,
        'Drift',
        'arn:aws:lambda:us-east-1:123456789012:function:churn-check-drift',
      );
      new BatchInference(checkedStack, 'Batch', { model, artifactStore: store, registry: models, checkDriftFunction: drift });
      Validations.of(checked).addPlugins(
        new AwsSolutionsChecks(checked),
        new ServerlessChecks(checked),
        new CfnGuardValidator({ controlTowerRulesEnabled: true }),
      );
      try {
        checked.synth();
      } catch {
        // A finding fails the synthesis; the report below names it.
      }
      const reportPath = path.join(outdir, 'validation-report.json');
      const report = existsSync(reportPath)
        ? (JSON.parse(readFileSync(reportPath, 'utf8')) as {
            pluginReports: Array<{ violations: unknown[]; suppressedViolations?: Array<{ reason?: string }> }>;
          })
        : { pluginReports: [] };
      const onBatch = report.pluginReports
        .flatMap((plugin) => plugin.violations)
        .filter((violation) => JSON.stringify(violation).includes('Batch'));
      expect(onBatch).toEqual([]);
      for (const suppressed of report.pluginReports.flatMap((plugin) => plugin.suppressedViolations ?? []))
        expect(suppressed.reason).toMatch(/\w{3,}.*\w{3,}/);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 120_000);
});
