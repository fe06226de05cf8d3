/**
 * A small hand-written template for the engine's unit tests: one function role with inline, attached
 * and managed policies, a KMS-encrypted SSL-only bucket, a KMS-encrypted table, a state machine,
 * and keys with and without the key-policy statement that delegates to IAM.
 */
import type { CfnTemplate, PolicyStatement } from '../../local/iam';

const arn = (logicalId: string) => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
const join = (...parts: unknown[]) => ({ 'Fn::Join': ['', parts] });

export function fixtureTemplate(statements: PolicyStatement[] = [], extra: CfnTemplate['Resources'] = {}): CfnTemplate {
  return {
    Resources: {
      Key: {
        Type: 'AWS::KMS::Key',
        Properties: {
          KeyPolicy: {
            Version: '2012-10-17',
            Statement: [
              {
                Effect: 'Allow',
                Principal: { AWS: join('arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root') },
                Action: 'kms:*',
                Resource: '*',
              },
            ],
          },
        },
      },
      LockedKey: {
        Type: 'AWS::KMS::Key',
        Properties: {
          KeyPolicy: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Principal: { Service: 'logs.amazonaws.com' }, Action: 'kms:Decrypt', Resource: '*' }],
          },
        },
      },
      Bucket: {
        Type: 'AWS::S3::Bucket',
        Properties: {
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: arn('Key') } },
            ],
          },
        },
      },
      BucketPolicy: {
        Type: 'AWS::S3::BucketPolicy',
        Properties: {
          Bucket: { Ref: 'Bucket' },
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              {
                Sid: 'DenyInsecureTransport',
                Effect: 'Deny',
                Principal: { AWS: '*' },
                Action: 's3:*',
                Resource: [arn('Bucket'), join(arn('Bucket'), '/*')],
                Condition: { Bool: { 'aws:SecureTransport': 'false' } },
              },
            ],
          },
        },
      },
      Table: {
        Type: 'AWS::DynamoDB::Table',
        Properties: { SSESpecification: { SSEEnabled: true, SSEType: 'KMS', KMSMasterKeyId: arn('Key') } },
      },
      Machine: { Type: 'AWS::StepFunctions::StateMachine', Properties: { RoleArn: arn('MachineRole') } },
      MachineRole: { Type: 'AWS::IAM::Role', Properties: {} },
      Logs: { Type: 'AWS::Logs::LogGroup', Properties: {} },
      FunctionRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          ManagedPolicyArns: [join('arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/service-role/AWSLambdaBasicExecutionRole')],
          Policies: [
            {
              PolicyName: 'Inline',
              PolicyDocument: {
                Version: '2012-10-17',
                Statement: [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: arn('Table') }],
              },
            },
          ],
        },
      },
      FunctionPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          Roles: [{ Ref: 'FunctionRole' }],
          PolicyDocument: { Version: '2012-10-17', Statement: statements },
        },
      },
      Function: {
        Type: 'AWS::Lambda::Function',
        Properties: {
          Role: arn('FunctionRole'),
          Environment: { Variables: { TABLE_NAME: { Ref: 'Table' }, POWERTOOLS_SERVICE_NAME: 'fixture' } },
        },
      },
      ...extra,
    },
  };
}
