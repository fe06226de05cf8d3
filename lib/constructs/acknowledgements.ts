/**
 * Finding IDs for cdk-nag acknowledgements that name CloudFormation tokens. cdk-nag 3 matches
 * each finding exactly (`AwsSolutions-IAM5[Resource::<LogicalId.Arn>/prefix/*]`), so the ID
 * is computed from the bucket's logical ID rather than copied from a synth report.
 */
import { Stack } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';

/** The AwsSolutions-IAM5 finding of a grant on the objects under `prefix` of `bucket`. */
export function objectPrefixFinding(bucket: s3.IBucket, prefix: string): string {
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as s3.CfnBucket);
  return `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`;
}
