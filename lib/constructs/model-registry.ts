/**
 * The model registry: one DynamoDB table (single-table design, see
 * contracts/registry-table.ts) and the registry function that owns every write to it.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { REGISTRY_TABLE_SCHEMA } from '../../contracts/registry-table';
import { MlopsFunction } from './mlops-function';
import { createPlatformKey } from './platform-key';

export interface ModelRegistryProps {
  /** Names of the configured models; the registry refuses requests for any other. */
  readonly modelNames: readonly string[];
  /**
   * Key encrypting the table.
   * @default - a new customer-managed key with yearly rotation
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Props of the new key (when no encryptionKey is given), over the defaults.
   * @default - rotation on, the registry's removal policy
   */
  readonly keyProps?: kms.KeyProps;
  /**
   * What happens to the table when the stack is deleted.
   * @default RemovalPolicy.RETAIN (and deletion protection on)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Retention of the registry function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class ModelRegistry extends Construct {
  readonly table: dynamodb.ITable;
  /** Registers versions, changes stages, promotes and rolls back; invoked by pipelines and the API. */
  readonly registryFunction: MlopsFunction;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ModelRegistryProps) {
    super(scope, id);
    if (props.modelNames.length === 0) {
      throw new Error('modelNames must name at least one configured model, got []');
    }
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.encryptionKey =
      props.encryptionKey ??
      createPlatformKey(this, 'Key', {
        description: 'model registry table',
        removalPolicy,
        ...(props.keyProps ? { keyProps: props.keyProps } : {}),
      });

    const { partitionKey, sortKey, byStageIndex } = REGISTRY_TABLE_SCHEMA;
    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: sortKey, type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
      // Every stage change is on the stream, for notifications and audit exports.
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      removalPolicy,
    });
    table.addGlobalSecondaryIndex({
      indexName: byStageIndex.indexName,
      partitionKey: { name: byStageIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: byStageIndex.sortKey, type: dynamodb.AttributeType.STRING },
      projectionType: dynamodb.ProjectionType.ALL,
    });
    this.table = table;

    this.registryFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'registry',
      description: 'cdk-mlops model registry: versions, stages, promotion, rollback, audit trail',
      memorySize: 512,
      timeout: Duration.seconds(30),
      logRetention: props.logRetention,
      environment: { TABLE_NAME: table.tableName, MODEL_NAMES: props.modelNames.join(',') },
    });
    this.grantReadWriteItems(this.registryFunction);
  }

  /** Direct read access to the table and its stage index (for functions that only look versions up). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:DescribeTable'],
      resourceArns: this.itemResourceArns(),
    });
    this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:DescribeKey');
    return grant;
  }

  /** Lets a principal call the registry function (pipelines, the API). */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.registryFunction.grantInvoke(grantee);
  }

  /** Errors of the registry function (typed refusals count too): for alarms and dashboards. */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.registryFunction.metricErrors(props);
  }

  /**
   * The item-level actions the registry's transactions use (TransactWriteItems is authorised
   * per item as PutItem / UpdateItem / ConditionCheckItem), on this table and its one index only.
   */
  private grantReadWriteItems(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({
      grantee,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:DescribeTable',
      ],
      resourceArns: this.itemResourceArns(),
    });
    // Explicit actions: grantEncryptDecrypt would add the kms:ReEncrypt* and GenerateDataKey* wildcards.
    this.encryptionKey.grant(grantee, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');
  }

  private itemResourceArns(): string[] {
    return [this.table.tableArn, `${this.table.tableArn}/index/${REGISTRY_TABLE_SCHEMA.byStageIndex.indexName}`];
  }
}
