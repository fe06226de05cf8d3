/**
 * The registry event publisher: batches of the registry table's stream (filtered by the event
 * source mapping to inserted audit events) in, EventBridge entries out, once per change; a
 * partial batch response names the first record not published.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Tracer } from '@aws-lambda-powertools/tracer';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { DynamoDbPublishLedger } from './dynamodb-publish-ledger';
import { streamChanges } from './dynamodb-stream-records';
import { EventBridgeRegistryBus } from './eventbridge-registry-bus';
import { type PublishLedger, publishRegistryEvents, type RegistryEventBus } from './publish-registry-events';

const logger = new Logger();
const tracer = new Tracer();
let dependencies: { bus: RegistryEventBus; ledger: PublishLedger } | undefined;

function fromEnvironment(): { bus: RegistryEventBus; ledger: PublishLedger } {
  if (dependencies) return dependencies;
  const { EVENT_BUS_NAME, LEDGER_TABLE } = process.env;
  if (!EVENT_BUS_NAME || !LEDGER_TABLE)
    throw new Error('EVENT_BUS_NAME and LEDGER_TABLE must be set; the RegistryEvents construct sets them');
  dependencies = {
    bus: new EventBridgeRegistryBus(tracer.captureAWSv3Client(new EventBridgeClient({})), EVENT_BUS_NAME),
    ledger: new DynamoDbPublishLedger(DynamoDBDocumentClient.from(tracer.captureAWSv3Client(new DynamoDBClient({}))), LEDGER_TABLE),
  };
  return dependencies;
}

export async function handler(event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> {
  logger.addContext(context);
  const result = await publishRegistryEvents(streamChanges(event.Records as never), fromEnvironment());
  logger.info('registry events published', {
    published: result.published.length,
    duplicates: result.duplicates.length,
    failedFrom: result.batchItemFailures[0]?.itemIdentifier,
  });
  return { batchItemFailures: result.batchItemFailures };
}
