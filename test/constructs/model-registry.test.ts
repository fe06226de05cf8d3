import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { asArray, Match, policyStatements, Template, testStack } from '../support/cdk';

function synth() {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn', 'fraud'] });
  const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
  registry.grantRead(reader);
  const template = Template.fromStack(stack);
  const logicalId = (type: string, prefix: string) => {
    const id = Object.keys(template.findResources(type)).find((candidate) => candidate.startsWith(prefix));
    if (!id) throw new Error(`no ${type} starting with ${prefix}`);
    return id;
  };
  return {
    template,
    tableId: logicalId('AWS::DynamoDB::Table', 'RegistryTable'),
    keyId: logicalId('AWS::KMS::Key', 'RegistryKey'),
    functionRoleId: logicalId('AWS::IAM::Role', 'RegistryFunctionRole'),
  };
}

/** Statements of the policies attached to one role. */
function statementsOfRole(template: Template, roleId: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: roleId }] } });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

describe('ModelRegistry', () => {
  it('declares the single-table keys and the stage index of the design', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'PK', KeyType: 'HASH' },
        { AttributeName: 'SK', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      GlobalSecondaryIndexes: [
        {
          IndexName: 'GSI1',
          KeySchema: [
            { AttributeName: 'GSI1PK', KeyType: 'HASH' },
            { AttributeName: 'GSI1SK', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });

  it('turns on point-in-time recovery, deletion protection and the change stream', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('encrypts the table with its rotated customer-managed key', () => {
    const { template, keyId } = synth();
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } },
    });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });

  it('runs the registry function on the newest Node.js runtime, arm64, traced, with its table and models', () => {
    const { template, tableId } = synth();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      TracingConfig: { Mode: 'Active' },
      MemorySize: 512,
      Timeout: 30,
      Environment: { Variables: Match.objectLike({ TABLE_NAME: { Ref: tableId }, MODEL_NAMES: 'churn,fraud' }) },
    });
  });

  it('lets the registry function touch only its table, its index and its key', () => {
    const { template, tableId, keyId, functionRoleId } = synth();
    const statements = statementsOfRole(template, functionRoleId);
    const tableArn = { 'Fn::GetAtt': [tableId, 'Arn'] };
    const dynamo = statements.filter((statement) => asArray(statement.Action as string[]).some((action) => action.startsWith('dynamodb:')));
    expect(dynamo).toHaveLength(1);
    expect(asArray(dynamo[0]!.Action as string[]).sort()).toEqual(
      [
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
      ].sort(),
    );
    expect(dynamo[0]!.Resource).toEqual([tableArn, { 'Fn::Join': ['', [tableArn, '/index/GSI1']] }]);

    const kms = statements.filter((statement) => asArray(statement.Action as string[]).some((action) => action.startsWith('kms:')));
    expect(kms).toHaveLength(1);
    expect(kms[0]!.Resource).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    expect(asArray(kms[0]!.Action as string[]).some((action) => action.includes('*'))).toBe(false);

    // X-Ray accepts only "*"; nothing else may.
    for (const statement of statements) {
      if (asArray(statement.Resource).includes('*')) {
        expect(asArray(statement.Action as string[]).every((action) => action.startsWith('xray:'))).toBe(true);
      }
    }
  });

  it('uses its own role instead of the AWS managed basic execution policy', () => {
    const { template, functionRoleId } = synth();
    const role = template.findResources('AWS::IAM::Role')[functionRoleId] as { Properties: Record<string, unknown> };
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const logs = statementsOfRole(template, functionRoleId).find((statement) =>
      asArray(statement.Action as string[]).includes('logs:PutLogEvents'),
    );
    expect(JSON.stringify(logs?.Resource)).toContain('RegistryFunctionLogs');
  });

  it('grants readers get and query only', () => {
    const { template } = synth();
    const readerStatements = policyStatements(template).filter((statement) => JSON.stringify(statement).includes('dynamodb:BatchGetItem'));
    expect(readerStatements).toHaveLength(1);
    expect(asArray(readerStatements[0]!.Action as string[]).filter((action) => /Put|Update|Delete/.test(action))).toEqual([]);
  });

  it('refuses to be created without any configured model', () => {
    expect(() => new ModelRegistry(testStack(), 'Registry', { modelNames: [] })).toThrow(
      'modelNames must name at least one configured model, got []',
    );
  });
});
