import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ArtifactStore, LIFECYCLE_DAYS } from '../../lib/constructs/artifact-store';
import { asArray, Match, policyStatements, Template, testStack } from '../support/cdk';

function synth(retentionDays = 45) {
  const stack = testStack();
  new ArtifactStore(stack, 'Store', { retentionDays });
  return { template: Template.fromStack(stack) };
}

type BucketResource = { Properties: Record<string, any> };

function bucketsById(template: Template): Record<string, BucketResource> {
  return template.findResources('AWS::S3::Bucket') as Record<string, BucketResource>;
}

function bucket(template: Template, idPrefix: string): BucketResource {
  const match = Object.entries(bucketsById(template)).find(([logicalId]) => logicalId.startsWith(`Store${idPrefix}`));
  if (!match) throw new Error(`no bucket ${idPrefix}`);
  return match[1];
}

function rule(resource: BucketResource, id: string): Record<string, any> {
  const found = resource.Properties.LifecycleConfiguration.Rules.find((r: { Id: string }) => r.Id === id);
  if (!found) throw new Error(`no lifecycle rule ${id}`);
  return found;
}

describe('ArtifactStore', () => {
  it('creates four buckets: datasets, artifacts, capture and access logs', () => {
    const { template } = synth();
    template.resourceCountIs('AWS::S3::Bucket', 4);
  });

  it('encrypts the three data buckets with one rotated customer-managed key', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0];
    for (const id of ['Datasets', 'Artifacts', 'Capture']) {
      expect(bucket(template, id).Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [keyId, 'Arn'] } },
          },
        ],
      });
    }
    // Access-log delivery only writes to SSE-S3 buckets.
    expect(
      bucket(template, 'AccessLogs').Properties.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault,
    ).toEqual({
      SSEAlgorithm: 'AES256',
    });
  });

  it('lets only AWS services create grants on the key', () => {
    const { template } = synth();
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 'kms:CreateGrant',
            Condition: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
          }),
        ]),
      },
    });
  });

  it('blocks public access, enforces bucket-owner ownership and versions every bucket', () => {
    const { template } = synth();
    for (const resource of Object.values(bucketsById(template))) {
      expect(resource.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(resource.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(resource.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    }
  });

  it('denies every request that does not use TLS, on every bucket', () => {
    const { template } = synth();
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy')) as BucketResource[];
    expect(policies).toHaveLength(4);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      );
    }
  });

  it('sends the data buckets access logs to the access-log bucket and their object events to EventBridge', () => {
    const { template } = synth();
    const logsId = Object.keys(bucketsById(template)).find((id) => id.startsWith('StoreAccessLogs'));
    for (const id of ['Datasets', 'Artifacts', 'Capture']) {
      const properties = bucket(template, id).Properties;
      expect(properties.LoggingConfiguration).toEqual({ DestinationBucketName: { Ref: logsId }, LogFilePrefix: `${id.toLowerCase()}/` });
      expect(properties.NotificationConfiguration).toEqual({ EventBridgeConfiguration: { EventBridgeEnabled: true } });
    }
  });

  it('tiers datasets to Infrequent Access after 30 days and Glacier after 90', () => {
    const { template } = synth();
    expect(rule(bucket(template, 'Datasets'), 'TierDatasets')).toMatchObject({
      Status: 'Enabled',
      Transitions: [
        { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
        { StorageClass: 'GLACIER', TransitionInDays: 90 },
      ],
    });
    expect(LIFECYCLE_DAYS).toMatchObject({ datasetsToInfrequentAccess: 30, datasetsToGlacier: 90 });
  });

  it('moves model artifacts to Glacier Instant Retrieval after 30 days and expires checkpoints after 7', () => {
    const { template } = synth();
    const artifacts = bucket(template, 'Artifacts');
    expect(rule(artifacts, 'TierModelArtifacts')).toMatchObject({
      Prefix: 'models/',
      Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
    });
    expect(rule(artifacts, 'ExpireCheckpoints')).toMatchObject({ Prefix: 'checkpoints/', ExpirationInDays: 7 });
  });

  it('expires capture data, quarantine, splits and non-current versions after the configured retention and aborts stale uploads after 1 day', () => {
    const { template } = synth(45);
    expect(rule(bucket(template, 'Capture'), 'ExpireCapture')).toMatchObject({ ExpirationInDays: 45 });
    // Quarantined rows and split copies of a dataset hold raw input: they go with the capture.
    expect(rule(bucket(template, 'Artifacts'), 'ExpireQuarantine')).toMatchObject({ Prefix: 'quarantine/', ExpirationInDays: 45 });
    expect(rule(bucket(template, 'Artifacts'), 'ExpireSplits')).toMatchObject({ Prefix: 'splits/', ExpirationInDays: 45 });
    for (const id of ['Datasets', 'Artifacts', 'Capture']) {
      expect(rule(bucket(template, id), 'ExpireNoncurrentVersions')).toMatchObject({
        NoncurrentVersionExpiration: { NoncurrentDays: 45 },
        AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        ExpiredObjectDeleteMarker: true,
      });
    }
    expect(rule(bucket(template, 'AccessLogs'), 'ExpireAccessLogs')).toMatchObject({ ExpirationInDays: 45 });
  });

  it('retains buckets and key when the stack is deleted', () => {
    const { template } = synth();
    for (const resource of Object.values(template.findResources('AWS::S3::Bucket'))) {
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    for (const resource of Object.values(template.findResources('AWS::KMS::Key'))) {
      expect(resource).toMatchObject({ DeletionPolicy: 'Retain' });
    }
  });

  it('grants dataset readers list, get and decrypt on that bucket only, without wildcard actions', () => {
    const stack = testStack();
    const store = new ArtifactStore(stack, 'Store');
    const role = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    store.grantReadDatasets(role, 'churn/');
    const statements = policyStatements(Template.fromStack(stack));
    const actions = statements.flatMap((statement) => asArray(statement.Action as string | string[]));
    expect(actions.sort()).toEqual(['kms:Decrypt', 'kms:DescribeKey', 's3:GetObject', 's3:GetObjectVersion', 's3:ListBucket'].sort());
    expect(actions.some((action) => action.includes('*'))).toBe(false);
    const objectStatement = statements.find((statement) => asArray(statement.Action as string[]).includes('s3:GetObject'));
    expect(JSON.stringify(objectStatement?.Resource)).toContain('/churn/*');
    expect(JSON.stringify(objectStatement?.Resource)).toContain('StoreDatasets');
  });

  it('grants artifact writers put but never delete', () => {
    const stack = testStack();
    const store = new ArtifactStore(stack, 'Store');
    const role = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    store.grantWriteArtifacts(role, 'models/');
    const actions = policyStatements(Template.fromStack(stack)).flatMap((statement) => asArray(statement.Action as string | string[]));
    expect(actions).toContain('s3:PutObject');
    expect(actions).toContain('kms:GenerateDataKey');
    expect(actions.filter((action) => action.startsWith('s3:Delete'))).toEqual([]);
  });

  it('refuses a retention that is not a positive number of days', () => {
    expect(() => new ArtifactStore(testStack(), 'Store', { retentionDays: 0 })).toThrow(
      'retentionDays must be a positive whole number of days, got 0',
    );
  });
});
