/**
 * Template assertions for ModelEvaluation as the stack wires it: the function (memory, timeout,
 * architecture, onnxruntime layer, environment), its least-privilege role (reads models/ and
 * datasets, writes only reports/, reads the registry, no metric or delete calls) and its output.
 */
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';
import { ArtifactStore } from '../../lib/constructs/artifact-store';
import { ModelEvaluation } from '../../lib/constructs/evaluate-model';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { cdkJsonContext, testStack } from '../support/cdk';

interface Statement {
  Action: string | string[];
  Resource: unknown;
  Effect: string;
}

describe('ModelEvaluation construct', () => {
  let template: Template;
  let functionLogicalId: string;
  let statements: Statement[];

  beforeAll(() => {
    // Bundling skipped: the layer's staging is tested with ServerlessInference, bundles by the budget script.
    const { stack } = createApp({ appProps: { context: { ...cdkJsonContext, 'aws:cdk:bundling-stacks': [] } }, policyValidation: false });
    template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^cdk-mlops evaluate-model') },
    });
    expect(Object.keys(functions)).toHaveLength(1);
    functionLogicalId = Object.keys(functions)[0]!;
    const role = template.toJSON().Resources[functionLogicalId].Properties.Role['Fn::GetAtt'][0];
    statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .filter((policy) =>
        (policy as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((reference) => reference.Ref === role),
      )
      .flatMap((policy) => (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument.Statement);
  });

  const actionsOf = (statement: Statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]);
  const resourcesWith = (action: string) =>
    JSON.stringify(statements.filter((statement) => actionsOf(statement).includes(action)).map((statement) => statement.Resource));

  it('runs on arm64 with 2 GB and fifteen minutes, the onnxruntime layer, the artifacts bucket and the registry table', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^cdk-mlops evaluate-model'),
      MemorySize: 2048,
      Timeout: 900,
      Architectures: ['arm64'],
      Layers: [{ Ref: Match.stringLikeRegexp('^ModelEvaluationchurnOnnxRuntimeLayer') }],
      Environment: {
        Variables: Match.objectLike({
          ARTIFACTS_BUCKET: { Ref: Match.stringLikeRegexp('^ArtifactStoreArtifacts') },
          TABLE_NAME: { Ref: Match.stringLikeRegexp('^ModelRegistryTable') },
          POWERTOOLS_METRICS_NAMESPACE: 'CdkMlops',
          MODEL_NAME: 'churn',
        }),
      },
    });
    template.hasResourceProperties('AWS::Lambda::LayerVersion', {
      Description: Match.stringLikeRegexp('^onnxruntime-node .* linux/arm64 only$'),
      CompatibleArchitectures: ['arm64'],
    });
  });

  it("reads only its model's artifacts, splits and datasets, writes only its model's reports, and never deletes", () => {
    const reads = resourcesWith('s3:GetObject');
    expect(reads).toContain('/models/churn/*');
    expect(reads).toContain('/splits/churn/*');
    expect(reads).not.toMatch(/\/(models|splits)\/\*/);
    expect(reads).not.toMatch(/\/(checkpoints|profiles|quarantine)\//);
    expect(reads).toMatch(/ArtifactStoreDatasets\w*","Arn"\]\},"\/churn\/\*"/);
    const writes = statements.filter((statement) => actionsOf(statement).includes('s3:PutObject'));
    const writtenPrefixes = writes.flatMap((statement) =>
      [...JSON.stringify(statement.Resource).matchAll(/\/(\w+)\/(\w+)\/\*/g)].map((match) => `${match[1]}/${match[2]}`),
    );
    expect(writtenPrefixes).toEqual(['reports/churn']);
    expect(resourcesWith('s3:PutObject')).not.toMatch(/ArtifactStoreDatasets/);
    expect(JSON.stringify(statements)).not.toMatch(/s3:DeleteObject/);
  });

  it('reads the registry table without write actions, and publishes metrics through logs only', () => {
    const dynamoActions = statements.flatMap(actionsOf).filter((action) => action.startsWith('dynamodb:'));
    expect([...new Set(dynamoActions)].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    const allActions = statements.flatMap(actionsOf);
    expect(allActions).not.toContain('cloudwatch:PutMetricData');
    expect(allActions.filter((action) => action.includes('*'))).toEqual([]);
  });

  it("tells the function its model's training price: cdk.json trains on 1 x ml.g5.xlarge, $1.408 an hour in the price table", () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^cdk-mlops evaluate-model'),
      Environment: { Variables: Match.objectLike({ TRAINING_INSTANCE_HOUR_USD: '1.408', TRAINING_INSTANCE_COUNT: '1' }) },
    });
  });

  it('refuses a training price that is not positive or an instance count that is not a positive integer', () => {
    const stack = testStack();
    const artifactStore = new ArtifactStore(stack, 'Store');
    const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn'] });
    const withPrice = (id: string, instanceHourUsd: number, instanceCount: number) => () =>
      new ModelEvaluation(stack, id, { artifactStore, registry, modelName: 'churn', trainingPrice: { instanceHourUsd, instanceCount } });
    expect(withPrice('Free', 0, 1)).toThrow(
      'trainingPrice must be a positive instanceHourUsd and a positive integer instanceCount, got 0 and 1',
    );
    expect(withPrice('Half', 1.408, 0.5)).toThrow('got 1.408 and 0.5');
  });

  it('exports the function name', () => {
    template.hasOutput('EvaluateModelFunctionNamechurn', { Value: { Ref: functionLogicalId } });
  });
});
