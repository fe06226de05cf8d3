/**
 * Registry events: every change the model registry records is published to EventBridge (source
 * `cdk-mlops`, contracts/registry-events.ts) from the registry table's stream. The publisher
 * function reads the stream's inserted audit events only (an event source mapping filter), in
 * order (one batch per shard at a time), and keeps a ledger of published event ids so a batch
 * Lambda delivers again publishes nothing twice; what it cannot publish after its retries goes
 * to a dead-letter queue (the stream positions, to replay from).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { REGISTRY_EVENT_SOURCE } from '../../contracts/registry-events';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';

export interface RegistryEventsProps {
  readonly registry: ModelRegistry;
  /**
   * The bus the events go to.
   * @default - the account's default event bus (where the buckets' S3 events go too)
   */
  readonly eventBus?: events.IEventBus;
  /**
   * Retention of the publisher's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the ledger table when the stack is deleted (it only holds a week of event ids).
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class RegistryEvents extends Construct {
  readonly eventBus: events.IEventBus;
  readonly publishFunction: MlopsFunction;
  /** Published event ids (one item per id, expired by TTL after a week). */
  readonly ledgerTable: dynamodb.Table;
  /** Stream positions of batches not published after every retry. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: RegistryEventsProps) {
    super(scope, id);
    const { registry } = props;
    this.eventBus = props.eventBus ?? events.EventBus.fromEventBusName(this, 'DefaultBus', 'default');
    this.ledgerTable = new dynamodb.Table(this, 'Ledger', {
      partitionKey: { name: 'eventId', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: registry.encryptionKey,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.KMS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      // A dead-letter queue of an event source mapping, not an SQS redrive target of any queue.
      redriveAllowPolicy: { redrivePermission: sqs.RedrivePermission.DENY_ALL },
    });
    const deadLetterReason =
      "This queue is a dead-letter queue: the on-failure destination of the publisher's stream event source mapping (records of batches not published after every retry), which the rule does not see as a DLQ; a DLQ of its own would only move the same records again.";
    Validations.of(this.deadLetterQueue).acknowledge(
      { id: 'AwsSolutions-SQS3', reason: deadLetterReason },
      { id: 'Serverless-SQSRedrivePolicy', reason: deadLetterReason },
      { id: 'cdk-validator-cfnguard::sqs_dlq_check', reason: deadLetterReason },
    );

    this.publishFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'publish-registry-events',
      description: 'cdk-mlops registry events: the registry table stream to EventBridge, once per change',
      memorySize: 256,
      timeout: Duration.seconds(60),
      logRetention: props.logRetention,
      environment: { EVENT_BUS_NAME: this.eventBus.eventBusName, LEDGER_TABLE: this.ledgerTable.tableName },
    });
    // PutEvents on this bus, and only with the platform's source: events:source is an array key
    // (one value per entry), so every entry's source must be cdk-mlops and a request must name one.
    this.publishFunction.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['events:PutEvents'],
        resources: [this.eventBus.eventBusArn],
        conditions: { 'ForAllValues:StringEquals': { 'events:source': [REGISTRY_EVENT_SOURCE] }, Null: { 'events:source': 'false' } },
      }),
    );
    iam.Grant.addToPrincipal({
      grantee: this.publishFunction,
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resourceArns: [this.ledgerTable.tableArn],
    });
    // The ledger and the stream share the registry's key; explicit actions, no GenerateDataKey* wildcard.
    registry.encryptionKey.grant(this.publishFunction, 'kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey', 'kms:DescribeKey');

    // Stream order per shard: one batch at a time, retried from the first record not published.
    this.publishFunction.addEventSource(
      new sources.DynamoEventSource(registry.table, {
        startingPosition: lambda.StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        parallelizationFactor: 1,
        reportBatchItemFailures: true,
        retryAttempts: 20,
        maxRecordAge: Duration.hours(24),
        bisectBatchOnError: false,
        onFailure: new sources.SqsDlq(this.deadLetterQueue),
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { entity: { S: lambda.FilterRule.isEqual('event') } } },
          }),
        ],
      }),
    );
  }
}
