/**
 * The publisher's DynamoDB ledger: a claimed event id is kept a week (its TTL attribute), as
 * docs/registry-events.md says, longer than a stream record lives (24 hours).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { DynamoDbPublishLedger } from '../../../lambdas/publish-registry-events/dynamodb-publish-ledger';
import { CLAIM_LEASE_MS } from '../../../lambdas/publish-registry-events/publish-registry-events';

describe('DynamoDbPublishLedger', () => {
  it('claims an event id with an expiry a week (604,800 s) away and a lease of its own', async () => {
    const documents = mockClient(DynamoDBDocumentClient);
    documents.on(PutCommand).resolves({});
    const client = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'eu-west-1' }));
    const now = new Date('2026-12-01T12:00:00Z');
    expect(await new DynamoDbPublishLedger(client, 'ledger').claim('event-1', now)).toBe('claimed');
    const seconds = now.getTime() / 1000;
    expect(documents.commandCalls(PutCommand)[0]!.args[0].input.Item).toEqual({
      eventId: 'event-1',
      status: 'claimed',
      leaseUntil: seconds + CLAIM_LEASE_MS / 1000,
      expiresAt: seconds + 604_800,
    });
    documents.restore();
  });
});
