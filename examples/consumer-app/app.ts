/**
 * A platform team's own CDK app embedding cdk-mlops beside resources it already has: a data lake
 * bucket with its own KMS key, an alerting topic, a VPC its SageMaker work must run in, and a
 * permissions boundary every role must carry.
 * `npm test` packs cdk-mlops, installs the tarball here and synthesizes this app with cdk-nag and
 * CloudFormation Guard (test/package.test.ts).
 */
import { App, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { applyPolicyChecks, MlopsPlatform } from 'cdk-mlops';

const app = new App();
applyPolicyChecks(app);
const stack = new Stack(app, 'AcmeMl', { description: 'Acme ML platform (cdk-mlops embedded)' });

// What the team already has: imported, never changed by the platform.
const lakeKey = kms.Key.fromKeyArn(stack, 'LakeKey', 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
const lake = s3.Bucket.fromBucketAttributes(stack, 'Lake', { bucketArn: 'arn:aws:s3:::acme-data-lake', encryptionKey: lakeKey });
const platformKey = kms.Key.fromKeyArn(stack, 'PlatformKey', 'arn:aws:kms:eu-west-1:111122223333:key/abcd1234-ab12-cd34-ef56-abcdef123456');
const alerts = sns.Topic.fromTopicArn(stack, 'Alerts', 'arn:aws:sns:eu-west-1:111122223333:acme-alerts');
const boundary = iam.ManagedPolicy.fromManagedPolicyName(stack, 'Boundary', 'acme-workload-boundary');
const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Network', {
  vpcId: 'vpc-0a1b2c3d4e5f67890',
  vpcCidrBlock: '10.40.0.0/16',
  availabilityZones: ['eu-west-1a', 'eu-west-1b'],
  privateSubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
  privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f60001', 'rtb-0a1b2c3d4e5f60002'],
});

new MlopsPlatform(stack, 'Mlops', {
  projectName: 'acme',
  environment: 'prod',
  owner: 'ml-platform',
  namePrefix: 'acme-ml',
  training: {
    imageUri: '763104351884.dkr.ecr.{region}.amazonaws.com/pytorch-training:2.6.0-gpu-py312-cu126-ubuntu22.04-sagemaker',
    instanceType: 'ml.g5.xlarge',
  },
  models: [
    {
      name: 'churn',
      problemType: 'binary-classification',
      target: 'churned',
      columns: [
        { name: 'tenure_months', type: 'integer', min: 0 },
        { name: 'monthly_charges', type: 'number', min: 0 },
        { name: 'churned', type: 'integer', min: 0, max: 1 },
      ],
      thresholds: { metrics: { f1: { min: 0.8 } } },
    },
    {
      // Served by a SageMaker endpoint running the platform's ONNX serving container.
      name: 'fraud',
      problemType: 'binary-classification',
      target: 'is_fraud',
      columns: [
        { name: 'amount', type: 'number', min: 0 },
        { name: 'merchant_category', type: 'category', allowedValues: ['retail', 'travel', 'online'] },
        { name: 'is_fraud', type: 'integer', min: 0, max: 1 },
      ],
      thresholds: { metrics: { recall: { min: 0.7 } } },
      serving: { mode: 'endpoint' },
    },
  ],
  existingDatasetsBucket: lake,
  existingEncryptionKey: platformKey,
  existingAlertTopic: alerts,
  permissionsBoundary: boundary,
  // Training jobs and endpoint models in the team's private subnets; the VPC has no endpoints yet.
  existingVpc: vpc,
  vpcEndpoints: true,
});

app.synth();
