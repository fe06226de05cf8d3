/**
 * MlopsPlatform as a library construct: its props are the configuration (validated at
 * construction, errors naming the prop), resources come in the existingX-xor-xProps way, and a
 * permissions boundary reaches every role it creates.
 */
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../contracts/platform-config';
import { MlopsPlatform, type MlopsPlatformProps } from '../lib/platform';
import { cdkJsonContext, policyStatements, Template, testStack } from './support/cdk';

const config = cdkJsonContext.mlops as PlatformConfigInput;
const LAKE_ARN = 'arn:aws:s3:::acme-data-lake';
const LAKE_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
const PLATFORM_KEY_ARN = 'arn:aws:kms:eu-west-1:111122223333:key/abcd1234-ab12-cd34-ef56-abcdef123456';

function platform(extra: (stack: ReturnType<typeof testStack>) => Partial<MlopsPlatformProps> = () => ({})) {
  const stack = testStack();
  const construct = new MlopsPlatform(stack, 'Mlops', { ...config, ...extra(stack) });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('MlopsPlatform props', () => {
  it('refuses an invalid configuration prop with a message naming it', () => {
    const stack = testStack();
    expect(() => new MlopsPlatform(stack, 'Mlops', { ...config, serving: { canaryPercent: 80 } })).toThrow(
      /Invalid MlopsPlatform props:\n {2}- props\.serving\.canaryPercent: Too big/,
    );
    expect(() => new MlopsPlatform(testStack(), 'Mlops', { ...config, namePrefix: 'Acme_ML' })).toThrow(/props\.namePrefix: /);
  });

  it.each([
    [
      'existingDatasetsBucket',
      'datasetsBucketProps',
      (stack: ReturnType<typeof testStack>) => ({
        existingDatasetsBucket: s3.Bucket.fromBucketArn(stack, 'Lake', LAKE_ARN),
        datasetsBucketProps: { versioned: true },
      }),
    ],
    [
      'existingEncryptionKey',
      'encryptionKeyProps',
      (stack: ReturnType<typeof testStack>) => ({
        existingEncryptionKey: kms.Key.fromKeyArn(stack, 'Key', PLATFORM_KEY_ARN),
        encryptionKeyProps: { enableKeyRotation: true },
      }),
    ],
    [
      'existingAlertTopic',
      'alertTopicProps',
      (stack: ReturnType<typeof testStack>) => ({
        existingAlertTopic: sns.Topic.fromTopicArn(stack, 'Alerts', 'arn:aws:sns:eu-west-1:111122223333:alerts'),
        alertTopicProps: { displayName: 'x' },
      }),
    ],
  ])('refuses both %s and %s', (existing, props, extra) => {
    const stack = testStack();
    expect(() => new MlopsPlatform(stack, 'Mlops', { ...config, ...extra(stack) })).toThrow(
      `${existing} and ${props} are mutually exclusive`,
    );
  });
});

describe('MlopsPlatform with the team’s resources', () => {
  const { template } = platform((stack) => {
    const lakeKey = kms.Key.fromKeyArn(stack, 'LakeKey', LAKE_KEY_ARN);
    return {
      existingDatasetsBucket: s3.Bucket.fromBucketAttributes(stack, 'Lake', { bucketArn: LAKE_ARN, encryptionKey: lakeKey }),
      existingEncryptionKey: kms.Key.fromKeyArn(stack, 'PlatformKey', PLATFORM_KEY_ARN),
      permissionsBoundary: iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'acme-boundary'),
      namePrefix: 'acme-ml',
    };
  });

  it('creates no key and no datasets bucket of its own', () => {
    template.resourceCountIs('AWS::KMS::Key', 0);
    expect(Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) => id.includes('Datasets'))).toEqual([]);
  });

  it("lets the functions read the model's datasets in the lake and decrypt them with the lake's key, not the platform key", () => {
    const statements = policyStatements(template);
    const reads = statements.filter((statement) => JSON.stringify(statement.Resource).includes(`${LAKE_ARN}/churn/*`));
    // validate-data reads the datasets, evaluate-model its holdouts: reads only.
    expect(reads.length).toBeGreaterThanOrEqual(2);
    for (const statement of reads) expect(statement.Action).toEqual(['s3:GetObject', 's3:GetObjectVersion']);
    expect(
      statements.some((statement) => JSON.stringify(statement).includes(LAKE_KEY_ARN) && JSON.stringify(statement).includes('kms:Decrypt')),
    ).toBe(true);
    // Writes of artifacts use the platform key; nothing writes to the lake.
    const lakeWrites = statements.filter(
      (statement) =>
        JSON.stringify(statement.Resource ?? '').includes(LAKE_ARN) && JSON.stringify(statement.Action).includes('s3:PutObject'),
    );
    expect(lakeWrites).toEqual([]);
    const kmsOnPlatformKey = statements.filter((statement) => JSON.stringify(statement.Resource ?? '').includes(PLATFORM_KEY_ARN));
    expect(kmsOnPlatformKey.length).toBeGreaterThan(0);
  });

  it('encrypts the registry table and the artifacts bucket with the given key', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', { SSESpecification: { KMSMasterKeyId: PLATFORM_KEY_ARN } });
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')).map((bucket) => JSON.stringify(bucket));
    expect(buckets.filter((bucket) => bucket.includes(PLATFORM_KEY_ARN)).length).toBe(2);
  });

  it('sets the permissions boundary on every role and names the dashboard with the prefix', () => {
    const roles = Object.entries(template.findResources('AWS::IAM::Role'));
    expect(roles.length).toBeGreaterThan(5);
    for (const [id, role] of roles) {
      expect(JSON.stringify((role as { Properties: { PermissionsBoundary?: unknown } }).Properties.PermissionsBoundary), id).toContain(
        ':policy/acme-boundary',
      );
    }
    template.hasResourceProperties('AWS::CloudWatch::Dashboard', { DashboardName: 'acme-ml' });
  });
});

describe('MlopsPlatform idle-cost guard', () => {
  it('alerts on an idle endpoint with its monthly cost at the configured price, and shows the alarm on the dashboard', () => {
    const [first, ...rest] = config.models;
    const { construct, template } = platform(() => ({
      // An illustrative override of the table's ml.c6i.large price (the serving default).
      pricing: { instanceHourUsd: { 'ml.c6i.large': 0.1 } },
      models: [{ ...first!, serving: { mode: 'endpoint', minInstances: 2 } }, ...rest],
    }));
    const [idle] = Object.values(template.findResources('AWS::CloudWatch::Alarm', { Properties: { MetricName: 'Invocations' } })) as Array<{
      Properties: { AlarmDescription: string; AlarmActions: unknown[] };
    }>;
    // 2 x 0.1 x 730 = $146.00.
    expect(idle!.Properties.AlarmDescription).toBe(
      `${first!.name} endpoint: no invocation in 24 h while 2 x ml.c6i.large bill $146.00 a month (2 x $0.1/h x 730 h, on-demand; idle cost)`,
    );
    expect(JSON.stringify(idle!.Properties.AlarmActions)).toMatch(/AlertTopic/);
    const endpoint = construct.endpoints.get(first!.name)!;
    expect(construct.observability.alarms).toContain(endpoint.idleAlarm);
  });

  it('refuses a model whose training instance type has no price, naming the type and the key to add', () => {
    expect(
      () => new MlopsPlatform(testStack(), 'Mlops', { ...config, training: { ...config.training, instanceType: 'ml.g6.xlarge' } }),
    ).toThrow(
      /props\.training\.instanceType: model "\w+"'s training uses ml\.g6\.xlarge, which has no price .*"pricing": \{ "instanceHourUsd": \{ "ml\.g6\.xlarge": <price> \} \}/,
    );
  });
});

describe('MlopsPlatform training job names', () => {
  it('cuts a job-name prefix over 26 characters (docs/training.md), so any project name the configuration accepts synthesizes', () => {
    const stack = testStack();
    // 23 + "-staging-" + "churn": 37 characters, over the 26 a job name leaves its prefix beside "-<UUID>".
    new MlopsPlatform(stack, 'Mlops', { ...config, projectName: 'customer-analytics-team', environment: 'staging' });
    const machines = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'));
    const prefixes = machines.flatMap((machine: any) => machine.Properties.DefinitionSubstitutions?.JobNamePrefix ?? []);
    // Its first 19 characters (trailing hyphens dropped) and 6 hex digits of its SHA-256: one prefix per model still.
    expect(prefixes).toEqual([expect.stringMatching(/^customer-analytics-[0-9a-f]{6}$/)]);
  });
});
