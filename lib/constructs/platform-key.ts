/**
 * The platform's customer-managed KMS keys: rotated yearly, and with a key policy that lets
 * only AWS services (DynamoDB, S3, SageMaker acting for a principal) create grants on them.
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';

export interface PlatformKeyProps {
  /** What the key encrypts, shown in the KMS console. */
  readonly description: string;
  /** What happens to the key when the stack is deleted (KMS then waits 30 days before deleting). */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The caller's key props, over the defaults (the grant-restricting policy statement is always added).
   * @default - the defaults
   */
  readonly keyProps?: kms.KeyProps;
}

export function createPlatformKey(scope: Construct, id: string, props: PlatformKeyProps): kms.Key {
  const key = new kms.Key(scope, id, {
    description: `cdk-mlops: ${props.description}`,
    enableKeyRotation: true,
    removalPolicy: props.removalPolicy,
    ...props.keyProps,
  });
  // Grants let a holder use the key without IAM policy changes; only AWS services need them.
  key.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'DenyGrantsNotForAwsResources',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['kms:CreateGrant'],
      resources: ['*'],
      conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
    }),
  );
  return key;
}
