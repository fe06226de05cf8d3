/**
 * The platform's S3 storage: datasets, model artifacts (with training checkpoints,
 * profiles and reports), inference capture, and the bucket that receives their access
 * logs. Everything is encrypted with one customer-managed KMS key, versioned, SSL-only
 * and private, with lifecycle rules that keep storage costs proportional to use.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { objectPrefixFinding } from './acknowledgements';
import { createPlatformKey } from './platform-key';

/** Day counts of the lifecycle rules; exported so the tests and the README quote one source. */
export const LIFECYCLE_DAYS = {
  datasetsToInfrequentAccess: 30,
  datasetsToGlacier: 90,
  artifactsToGlacierInstantRetrieval: 30,
  checkpointExpiration: 7,
  abortIncompleteMultipartUpload: 1,
} as const;

export interface ArtifactStoreProps {
  /**
   * Days a non-current object version, an inference capture object, a quarantined row, a run's
   * split and an access log are kept.
   * @default 90
   */
  readonly retentionDays?: number;
  /**
   * What happens to the buckets and the key when the stack is deleted. Data is kept by default;
   * `DESTROY` is for throw-away environments and also empties the buckets.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * An existing key to encrypt the platform's buckets with instead of a new one. Its key policy
   * must let the account's IAM policies grant it (the default key policy does).
   * @default - a new customer-managed key with yearly rotation (see keyProps)
   */
  readonly existingKey?: kms.IKey;
  /**
   * Props of the new key, over the platform's defaults (rotation on). Not with existingKey.
   * @default - the platform's defaults
   */
  readonly keyProps?: kms.KeyProps;
  /**
   * An existing bucket (a data lake's) to read datasets from instead of a new one. Grants name
   * its ARN, and its `encryptionKey` when it has one: import it with
   * `s3.Bucket.fromBucketAttributes(scope, id, { bucketArn, encryptionKey })` so readers may
   * decrypt. The platform never changes its policy, lifecycle or notifications.
   * @default - a new datasets bucket (see datasetsBucketProps)
   */
  readonly existingDatasetsBucket?: s3.IBucket;
  /**
   * Props of the new datasets bucket, over the platform's secure defaults (KMS with the platform
   * key, versioned, SSL-only, private, access-logged, tiered). Not with existingDatasetsBucket.
   * @default - the platform's defaults
   */
  readonly datasetsBucketProps?: s3.BucketProps;
}

function defaultProps(props: ArtifactStoreProps) {
  return { retentionDays: 90, removalPolicy: RemovalPolicy.RETAIN, ...props };
}

/** The aws-solutions-constructs rule: an existing resource or props for a new one, never both. */
export function checkExistingXorProps(existingName: string, existing: unknown, propsName: string, props: unknown): void {
  if (existing !== undefined && props !== undefined) {
    throw new Error(`${existingName} and ${propsName} are mutually exclusive: pass an existing resource or props for a new one, not both`);
  }
}

export class ArtifactStore extends Construct {
  /** Customer-managed key (rotated yearly, or the one given) encrypting every object of the platform's buckets. */
  readonly key: kms.IKey;
  /** The key encrypting the datasets bucket: the platform key, or an existing bucket's own key (none for SSE-S3). */
  readonly datasetsKey?: kms.IKey;
  /** Training and holdout datasets, as uploaded by data scientists or pipelines. */
  readonly datasetsBucket: s3.IBucket;
  /** Model artifacts, training checkpoints, dataset profiles, validation and drift reports. */
  readonly artifactsBucket: s3.IBucket;
  /** Captured inference requests and responses, the input of drift detection. */
  readonly captureBucket: s3.IBucket;
  /** Server access logs of the three buckets above. */
  readonly accessLogsBucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ArtifactStoreProps = {}) {
    super(scope, id);
    const { retentionDays, removalPolicy } = defaultProps(props);
    checkExistingXorProps('existingKey', props.existingKey, 'keyProps', props.keyProps);
    checkExistingXorProps('existingDatasetsBucket', props.existingDatasetsBucket, 'datasetsBucketProps', props.datasetsBucketProps);
    if (!Number.isInteger(retentionDays) || retentionDays < 1) {
      throw new Error(`retentionDays must be a positive whole number of days, got ${retentionDays}`);
    }
    const autoDeleteObjects = removalPolicy === RemovalPolicy.DESTROY;
    // Log delivery is authorised by bucket policy, which owner-enforced buckets require (no ACLs),
    // whatever the app's feature flags say.
    this.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);

    this.key =
      props.existingKey ??
      createPlatformKey(this, 'Key', {
        description: 'datasets, model artifacts and inference capture',
        removalPolicy,
        ...(props.keyProps ? { keyProps: props.keyProps } : {}),
      });

    const accessLogs = new s3.Bucket(this, 'AccessLogs', {
      // Server access log delivery writes only to SSE-S3 buckets, never SSE-KMS.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      versioned: true,
      removalPolicy,
      autoDeleteObjects,
      lifecycleRules: [
        {
          id: 'ExpireAccessLogs',
          expiration: Duration.days(retentionDays),
          noncurrentVersionExpiration: Duration.days(1),
          abortIncompleteMultipartUploadAfter: Duration.days(LIFECYCLE_DAYS.abortIncompleteMultipartUpload),
        },
      ],
    });
    Validations.of(accessLogs).acknowledge(
      { id: 'AwsSolutions-S1', reason: 'This is the access-log destination itself; logging it into itself would loop.' },
      { id: 'cdk-validator-cfnguard::s3_bucket_logging_enabled_check', reason: 'This is the access-log destination itself.' },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check',
        reason: 'S3 server access log delivery supports only SSE-S3 destination buckets, not SSE-KMS.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_event_notifications_enabled_check',
        reason: 'Access logs are read by people and Athena on demand; nothing reacts to new log objects.',
      },
      {
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason: 'Logs expire after the configured retention; Object Lock retention would keep them past it.',
      },
    );
    this.accessLogsBucket = accessLogs;

    const secureBucket = (bucketId: string, lifecycleRules: s3.LifecycleRule[], overrides: s3.BucketProps = {}) => {
      const bucket = new s3.Bucket(this, bucketId, {
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: this.key,
        // One data key per bucket instead of one KMS call per object: cheaper and not throttled.
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${bucketId.toLowerCase()}/`,
        removalPolicy,
        autoDeleteObjects,
        lifecycleRules: [
          ...lifecycleRules,
          {
            id: 'ExpireNoncurrentVersions',
            noncurrentVersionExpiration: Duration.days(retentionDays),
            abortIncompleteMultipartUploadAfter: Duration.days(LIFECYCLE_DAYS.abortIncompleteMultipartUpload),
            expiredObjectDeleteMarker: true,
          },
        ],
        ...overrides,
      });
      // New datasets, artifacts and capture batches become EventBridge events pipelines can start on.
      // Set on the CloudFormation resource: the L2 `eventBridgeEnabled` goes through a custom-resource Lambda.
      (bucket.node.defaultChild as s3.CfnBucket).notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
      Validations.of(bucket).acknowledge({
        id: 'cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check',
        reason:
          'Immutability comes from versioning plus the SHA-256 recorded in the registry; Object Lock retention would block the lifecycle expirations (checkpoints, capture, non-current versions) that bound storage cost.',
      });
      return bucket;
    };

    this.datasetsBucket =
      props.existingDatasetsBucket ??
      secureBucket(
        'Datasets',
        [
          {
            id: 'TierDatasets',
            transitions: [
              {
                storageClass: s3.StorageClass.INFREQUENT_ACCESS,
                transitionAfter: Duration.days(LIFECYCLE_DAYS.datasetsToInfrequentAccess),
              },
              { storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(LIFECYCLE_DAYS.datasetsToGlacier) },
            ],
          },
        ],
        props.datasetsBucketProps,
      );
    this.datasetsKey = props.existingDatasetsBucket ? props.existingDatasetsBucket.encryptionKey : this.datasetsBucket.encryptionKey;

    this.artifactsBucket = secureBucket('Artifacts', [
      {
        // Glacier Instant Retrieval keeps millisecond reads, so an old version still rolls back at once.
        id: 'TierModelArtifacts',
        prefix: ARTIFACT_PREFIXES.models,
        transitions: [
          {
            storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
            transitionAfter: Duration.days(LIFECYCLE_DAYS.artifactsToGlacierInstantRetrieval),
          },
        ],
      },
      {
        // Checkpoints only matter while a spot job may resume; later they are dead weight.
        id: 'ExpireCheckpoints',
        prefix: ARTIFACT_PREFIXES.checkpoints,
        expiration: Duration.days(LIFECYCLE_DAYS.checkpointExpiration),
        noncurrentVersionExpiration: Duration.days(1),
      },
      {
        // Rejected rows are raw input (identifiers, personal data): kept as long as capture, then gone.
        id: 'ExpireQuarantine',
        prefix: ARTIFACT_PREFIXES.quarantine,
        expiration: Duration.days(retentionDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
      {
        // A run's split is a copy of its dataset's rows; the lineage keeps its row counts and SHA-256.
        id: 'ExpireSplits',
        prefix: ARTIFACT_PREFIXES.splits,
        expiration: Duration.days(retentionDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
    ]);

    this.captureBucket = secureBucket('Capture', [
      {
        id: 'ExpireCapture',
        expiration: Duration.days(retentionDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
    ]);
  }

  /** Read datasets: list the bucket, get objects under `keyPrefix`, decrypt. */
  grantReadDatasets(grantee: iam.IGrantable, keyPrefix = ''): void {
    this.grantRead(this.datasetsBucket, grantee, keyPrefix, this.datasetsKey);
  }

  /** Read model artifacts, checkpoints, profiles and reports under `keyPrefix`. */
  grantReadArtifacts(grantee: iam.IGrantable, keyPrefix = ''): void {
    this.grantRead(this.artifactsBucket, grantee, keyPrefix);
  }

  /** Write new objects under `keyPrefix` (no delete: the platform never removes an artifact). */
  grantWriteArtifacts(grantee: iam.IGrantable, keyPrefix = ''): void {
    this.grantWrite(this.artifactsBucket, grantee, keyPrefix);
  }

  /** Append captured inference records. */
  grantWriteCapture(grantee: iam.IGrantable, keyPrefix = ''): void {
    this.grantWrite(this.captureBucket, grantee, keyPrefix);
  }

  /** Read captured inference records (drift detection). */
  grantReadCapture(grantee: iam.IGrantable, keyPrefix = ''): void {
    this.grantRead(this.captureBucket, grantee, keyPrefix);
  }

  /**
   * Explicit actions rather than Bucket.grantRead, whose s3:GetObject* / s3:List* wildcards
   * would also hand out ACL and tagging reads.
   */
  private grantRead(bucket: s3.IBucket, grantee: iam.IGrantable, keyPrefix: string, key: kms.IKey | undefined = this.key): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [bucket.bucketArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resourceArns: [bucket.arnForObjects(`${keyPrefix}*`)],
    });
    key?.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
    acknowledgeObjectWildcard(grantee, bucket, keyPrefix);
  }

  private grantWrite(bucket: s3.IBucket, grantee: iam.IGrantable, keyPrefix: string): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resourceArns: [bucket.arnForObjects(`${keyPrefix}*`)],
    });
    // Multipart uploads with SSE-KMS need Decrypt as well as GenerateDataKey.
    this.key.grant(grantee, 'kms:GenerateDataKey', 'kms:Decrypt', 'kms:DescribeKey');
    acknowledgeObjectWildcard(grantee, bucket, keyPrefix);
  }
}

/**
 * Object grants necessarily end in `*` (keys are generated per run); acknowledge that one
 * finding on the grantee, naming the exact bucket and prefix, so any other wildcard still fails.
 */
function acknowledgeObjectWildcard(grantee: iam.IGrantable, bucket: s3.IBucket, keyPrefix: string): void {
  const principal = grantee.grantPrincipal;
  if (!(principal instanceof Construct)) return;
  Validations.of(principal).acknowledge({
    id: objectPrefixFinding(bucket, keyPrefix),
    reason: `Object access under "${keyPrefix || '(whole bucket)'}" of one platform bucket: object keys are generated per run, so no narrower ARN exists.`,
  });
}
