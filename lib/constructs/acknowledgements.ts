/**
 * Finding IDs for cdk-nag acknowledgements that name CloudFormation tokens. cdk-nag 3 matches
 * each finding exactly (`AwsSolutions-IAM5[Resource::<LogicalId.Arn>/prefix/*]`), so the ID
 * is computed from the bucket's logical ID rather than copied from a synth report.
 */
import { Stack } from 'aws-cdk-lib';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * The AwsSolutions-IAM5 finding of a grant on the objects under `prefix` of `bucket`: the
 * platform's own buckets (`<LogicalId.Arn>/prefix*`) and a bucket brought in by the user alike
 * (its literal ARN when imported by name).
 */
export function objectPrefixFinding(bucket: s3.IBucket, prefix: string): string {
  return `AwsSolutions-IAM5[Resource::${iamFindingResource(bucket, bucket.arnForObjects(`${prefix}*`))}]`;
}

/** How cdk-nag names a resource ARN made of tokens in an IAM5 finding. */
export function iamFindingResource(scope: Construct, arn: string): string {
  const resolved = Stack.of(scope).resolve(arn) as { 'Fn::Join'?: [string, unknown[]] };
  const parts = resolved['Fn::Join']?.[1] ?? [arn];
  return parts
    .map((part) => {
      if (typeof part === 'string') return part;
      const ref = (part as { Ref?: string }).Ref;
      if (ref) return `<${ref}>`;
      const getAtt = (part as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
      if (getAtt) return `<${getAtt[0]}.${getAtt[1]}>`;
      return JSON.stringify(part);
    })
    .join('');
}
