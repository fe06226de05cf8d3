/**
 * The publisher's ledger as a small DynamoDB table: one item per event id, a claim conditioned on
 * no item or an expired claim, kept for a week by TTL.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIM_LEASE_MS, type ClaimResult, type PublishLedger } from './publish-registry-events';

/** How long the ledger remembers a published event: longer than a stream record lives (24 hours). */
const LEDGER_TTL_SECONDS = 7 * 24 * 3600;

export class DynamoDbPublishLedger implements PublishLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(eventId: string, now: Date): Promise<ClaimResult> {
    const seconds = Math.floor(now.getTime() / 1000);
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { eventId, status: 'claimed', leaseUntil: seconds + CLAIM_LEASE_MS / 1000, expiresAt: seconds + LEDGER_TTL_SECONDS },
          ConditionExpression: 'attribute_not_exists(eventId) OR (#status = :claimed AND leaseUntil < :now)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed', ':now': seconds },
        }),
      );
      return 'claimed';
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException) && (error as Error).name !== 'ConditionalCheckFailedException') throw error;
      const { Item } = await this.client.send(new GetCommand({ TableName: this.tableName, Key: { eventId }, ConsistentRead: true }));
      return Item?.status === 'published' ? 'published' : 'in-progress';
    }
  }

  async markPublished(eventId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: { eventId },
        UpdateExpression: 'SET #status = :published',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':published': 'published' },
      }),
    );
  }

  async release(eventId: string): Promise<void> {
    try {
      await this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { eventId },
          ConditionExpression: '#status = :claimed',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':claimed': 'claimed' },
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ConditionalCheckFailedException') throw error;
    }
  }
}
