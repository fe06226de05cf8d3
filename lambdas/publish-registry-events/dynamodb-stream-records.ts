/**
 * The registry table's stream records as the publisher reads them: the audit event an INSERT
 * wrote (the registry appends each change's audit event once, so the insert is the change).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditEvent } from '../../contracts/registry';
import type { StreamChange } from './publish-registry-events';

/** The part of a DynamoDB stream record the publisher reads. */
export interface StreamRecordLike {
  readonly eventName?: string;
  readonly dynamodb?: {
    readonly NewImage?: Record<string, AttributeValue>;
    readonly SequenceNumber?: string;
  };
}

const KEY_ATTRIBUTES = new Set(['PK', 'SK', 'GSI1PK', 'GSI1SK', 'entity']);

/** The audit event a stream record inserted, or undefined for any other item or change. */
export function auditEventOf(record: StreamRecordLike): AuditEvent | undefined {
  const image = record.dynamodb?.NewImage;
  if (record.eventName !== 'INSERT' || !image || image.entity?.S !== 'event') return undefined;
  const item = unmarshall(image) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(item).filter(([key]) => !KEY_ATTRIBUTES.has(key))) as unknown as AuditEvent;
}

/** The publisher's input from a stream batch: each record's sequence number and audit event. */
export function streamChanges(records: readonly StreamRecordLike[]): StreamChange[] {
  return records.map((record) => {
    const event = auditEventOf(record);
    return { sequence: record.dynamodb?.SequenceNumber ?? event?.eventId ?? '', event };
  });
}
