/**
 * The IAM side of a resolved template: each AWS::IAM::Role with every policy that applies to it
 * (inline `Policies`, AWS::IAM::Policy / RolePolicy / ManagedPolicy attached through `Roles`,
 * managed policy ARNs, the permissions boundary), and the resource policies of the resources the
 * template owns (bucket policies, KMS key policies, SNS topic and SQS queue policies), found by the
 * ARN a request names.
 */
import { awsManagedPolicy, type PolicyDocument } from './aws-managed-policies';
import type { ResolvedTemplate } from './template';

export interface NamedPolicy {
  /** Where the policy comes from, e.g. `ApiFunctionRoleDefaultPolicy841C93FB` or `aws:service-role/AWSLambdaBasicExecutionRole`. */
  readonly name: string;
  readonly document: PolicyDocument;
}

export interface RolePolicies {
  readonly logicalId: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly identityPolicies: readonly NamedPolicy[];
  readonly permissionsBoundary?: NamedPolicy;
  /** AWS-managed policies attached to the role whose documents the engine does not have: a denial may be wrong. */
  readonly unknownManagedPolicies: readonly string[];
}

export interface ResourcePolicy {
  /** Logical ID of the policy's resource (the bucket policy, the key, the topic policy). */
  readonly source: string;
  readonly document: PolicyDocument;
}

const asArray = <T>(value: T | readonly T[] | undefined): T[] =>
  value === undefined ? [] : Array.isArray(value) ? [...value] : [value as T];

export function rolePolicies(resolved: ResolvedTemplate, roleLogicalId: string): RolePolicies {
  const role = resolved.resource(roleLogicalId);
  if (role.Type !== 'AWS::IAM::Role') throw new Error(`"${roleLogicalId}" is a ${role.Type}, not an AWS::IAM::Role`);
  const roleName = resolved.physicalName(roleLogicalId);
  const properties = (resolved.resolve(role.Properties ?? {}) ?? {}) as Record<string, unknown>;
  const identityPolicies: NamedPolicy[] = [];
  for (const inline of asArray(properties.Policies as Array<{ PolicyName: string; PolicyDocument: PolicyDocument }> | undefined)) {
    identityPolicies.push({ name: `${roleLogicalId}/${inline.PolicyName}`, document: inline.PolicyDocument });
  }
  for (const [logicalId, resource] of Object.entries(resolved.template.Resources)) {
    if (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::ManagedPolicy') {
      const roles = asArray(resolved.resolve(resource.Properties?.Roles) as string[] | undefined);
      if (roles.includes(roleName)) {
        identityPolicies.push({ name: logicalId, document: resolved.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
      }
    } else if (resource.Type === 'AWS::IAM::RolePolicy') {
      if (resolved.resolve(resource.Properties?.RoleName) === roleName) {
        identityPolicies.push({ name: logicalId, document: resolved.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
      }
    }
  }
  const unknownManagedPolicies: string[] = [];
  for (const arn of asArray(properties.ManagedPolicyArns as string[] | undefined)) {
    const policy = managedPolicy(resolved, arn);
    if (policy) identityPolicies.push(policy);
    else unknownManagedPolicies.push(arn);
  }
  let permissionsBoundary: NamedPolicy | undefined;
  if (typeof properties.PermissionsBoundary === 'string') {
    permissionsBoundary = managedPolicy(resolved, properties.PermissionsBoundary);
    if (!permissionsBoundary) unknownManagedPolicies.push(properties.PermissionsBoundary);
  }
  return {
    logicalId: roleLogicalId,
    roleName,
    roleArn: resolved.arnOf(roleLogicalId),
    identityPolicies,
    ...(permissionsBoundary ? { permissionsBoundary } : {}),
    unknownManagedPolicies,
  };
}

/** A managed policy by ARN: one of the template's AWS::IAM::ManagedPolicy resources, or a known AWS-managed one. */
function managedPolicy(resolved: ResolvedTemplate, arn: string): NamedPolicy | undefined {
  const aws = awsManagedPolicy(arn);
  if (aws) return aws.document ? { name: `aws:${aws.name}`, document: aws.document } : undefined;
  for (const logicalId of resolved.logicalIdsOfType('AWS::IAM::ManagedPolicy')) {
    if (resolved.arnOf(logicalId) === arn) {
      return { name: logicalId, document: resolved.resolve(resolved.resource(logicalId).Properties?.PolicyDocument) as PolicyDocument };
    }
  }
  return undefined;
}

/**
 * The resource policy AWS evaluates for a request on `resourceArn`, when the template owns it:
 * a bucket's policy for the bucket and its objects, a key's key policy, a topic's or queue's policy.
 */
export function resourcePolicyFor(resolved: ResolvedTemplate, resourceArn: string): ResourcePolicy | undefined {
  const { partition } = resolved.environment;
  const bucket = new RegExp(`^arn:${partition}:s3:::([^/]+)(/.*)?$`).exec(resourceArn)?.[1];
  const merged: Array<{ source: string; document: PolicyDocument }> = [];
  for (const [logicalId, resource] of Object.entries(resolved.template.Resources)) {
    switch (resource.Type) {
      case 'AWS::S3::BucketPolicy':
        if (bucket !== undefined && resolved.resolve(resource.Properties?.Bucket) === bucket) {
          merged.push({ source: logicalId, document: resolved.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
        }
        break;
      case 'AWS::KMS::Key':
        if (resolved.arnOf(logicalId) === resourceArn) {
          merged.push({ source: logicalId, document: resolved.resolve(resource.Properties?.KeyPolicy) as PolicyDocument });
        }
        break;
      case 'AWS::SNS::TopicPolicy':
        if (asArray(resolved.resolve(resource.Properties?.Topics) as string[]).includes(resourceArn)) {
          merged.push({ source: logicalId, document: resolved.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
        }
        break;
      case 'AWS::SQS::QueuePolicy': {
        const queueUrls = asArray(resolved.resolve(resource.Properties?.Queues) as string[]);
        if (queueUrls.some((url) => queueArnOfUrl(url, partition) === resourceArn)) {
          merged.push({ source: logicalId, document: resolved.resolve(resource.Properties?.PolicyDocument) as PolicyDocument });
        }
        break;
      }
    }
  }
  if (merged.length === 0) return undefined;
  // A topic can have several TopicPolicy resources; AWS keeps one document, so their statements are combined.
  return {
    source: merged.map((policy) => policy.source).join('+'),
    document: { Version: '2012-10-17', Statement: merged.flatMap((policy) => asArray(policy.document.Statement)) },
  };
}

/** How a bucket, table or topic is encrypted with a customer-managed KMS key. */
export interface KmsEncryption {
  readonly keyArn: string;
  /** S3 Bucket Keys: the encryption context names the bucket, not the object. */
  readonly bucketKey: boolean;
}

/**
 * The customer-managed KMS key a bucket (or object), table (or index) or topic ARN is encrypted
 * with, or the key a SageMaker endpoint configuration encrypts its instances' volumes with, when
 * the template sets one.
 */
export function encryptionOf(resolved: ResolvedTemplate, resourceArn: string): KmsEncryption | undefined {
  const toKeyArn = (value: unknown) => {
    const key = resolved.resolveString(value);
    if (key.startsWith('arn:')) return key;
    const { partition, region, account } = resolved.environment;
    return `arn:${partition}:kms:${region}:${account}:key/${key}`;
  };
  const owns = (arn: string) => resourceArn === arn || resourceArn.startsWith(`${arn}/`);
  for (const [logicalId, resource] of Object.entries(resolved.template.Resources)) {
    const properties = resource.Properties ?? {};
    if (resource.Type === 'AWS::S3::Bucket' && owns(resolved.arnOf(logicalId))) {
      const rule = (
        properties.BucketEncryption as
          | {
              ServerSideEncryptionConfiguration?: Array<{
                BucketKeyEnabled?: boolean;
                ServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: unknown };
              }>;
            }
          | undefined
      )?.ServerSideEncryptionConfiguration?.[0];
      const byDefault = rule?.ServerSideEncryptionByDefault;
      if (!byDefault?.SSEAlgorithm?.startsWith('aws:kms') || byDefault.KMSMasterKeyID === undefined) return undefined;
      return { keyArn: toKeyArn(byDefault.KMSMasterKeyID), bucketKey: rule?.BucketKeyEnabled === true };
    }
    if (resource.Type === 'AWS::DynamoDB::Table' && owns(resolved.arnOf(logicalId))) {
      const sse = properties.SSESpecification as { SSEEnabled?: boolean; KMSMasterKeyId?: unknown } | undefined;
      return sse?.SSEEnabled && sse.KMSMasterKeyId !== undefined ? { keyArn: toKeyArn(sse.KMSMasterKeyId), bucketKey: false } : undefined;
    }
    if (resource.Type === 'AWS::SNS::Topic' && resolved.arnOf(logicalId) === resourceArn) {
      return properties.KmsMasterKeyId === undefined ? undefined : { keyArn: toKeyArn(properties.KmsMasterKeyId), bucketKey: false };
    }
    if (resource.Type === 'AWS::SageMaker::EndpointConfig' && resolved.arnOf(logicalId) === resourceArn) {
      return properties.KmsKeyId === undefined ? undefined : { keyArn: toKeyArn(properties.KmsKeyId), bucketKey: false };
    }
  }
  return undefined;
}

function queueArnOfUrl(url: string, partition: string): string | undefined {
  const match = /^https:\/\/sqs\.([a-z0-9-]+)\.[^/]+\/(\d{12})\/(.+)$/.exec(url);
  return match ? `arn:${partition}:sqs:${match[1]}:${match[2]}:${match[3]}` : undefined;
}
