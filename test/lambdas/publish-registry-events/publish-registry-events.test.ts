import { marshall } from '@aws-sdk/util-dynamodb';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../../contracts/registry';
import { REGISTRY_DETAIL_TYPES, REGISTRY_EVENT_SOURCE, type RegistryEventEntry } from '../../../contracts/registry-events';
import { auditEventOf, streamChanges } from '../../../lambdas/publish-registry-events/dynamodb-stream-records';
import {
  InMemoryPublishLedger,
  type PutOutcome,
  publishRegistryEvents,
  type RegistryEventBus,
  type StreamChange,
} from '../../../lambdas/publish-registry-events/publish-registry-events';

function audit(index: number): AuditEvent {
  return {
    eventId: `e-${String(index).padStart(4, '0')}`,
    modelName: 'churn',
    at: `2026-01-01T00:00:${String(index % 60).padStart(2, '0')}.000Z`,
    actor: 'arn:aws:iam::123456789012:role/ci',
    action: index % 2 === 0 ? 'register' : 'promote',
    version: index + 1,
  } as AuditEvent;
}

function changes(count: number): StreamChange[] {
  return Array.from({ length: count }, (_, index) => ({ sequence: String(1000 + index), event: audit(index) }));
}

/** A bus that records accepted entries; `fail` decides, per call and entry, whether PutEvents refuses it. */
class RecordingBus implements RegistryEventBus {
  readonly accepted: RegistryEventEntry[] = [];
  calls = 0;
  constructor(private readonly fail: (call: number, index: number) => boolean = () => false) {}
  async put(entries: readonly RegistryEventEntry[]): Promise<PutOutcome[]> {
    expect(entries.length).toBeLessThanOrEqual(10);
    const call = this.calls++;
    return entries.map((entry, index) => {
      if (this.fail(call, index)) return { ok: false, error: 'ThrottlingException' };
      this.accepted.push(entry);
      return { ok: true };
    });
  }
}

/** Lambda's retry of a stream batch with a partial batch response: again from the reported record. */
async function deliverUntilDone(batch: StreamChange[], bus: RegistryEventBus, ledger: InMemoryPublishLedger, now: () => Date) {
  let remaining = batch;
  for (let attempt = 0; attempt < 200 && remaining.length > 0; attempt++) {
    const result = await publishRegistryEvents(remaining, { bus, ledger, now });
    const failed = result.batchItemFailures[0]?.itemIdentifier;
    remaining = failed === undefined ? [] : remaining.slice(remaining.findIndex((change) => change.sequence === failed));
  }
  return remaining;
}

describe('publishRegistryEvents', () => {
  it('publishes each audit event once as a cdk-mlops event, ten entries per PutEvents at most', async () => {
    const bus = new RecordingBus();
    const result = await publishRegistryEvents(changes(23), { bus, ledger: new InMemoryPublishLedger() });
    expect(bus.calls).toBe(3);
    expect(result.batchItemFailures).toEqual([]);
    expect(bus.accepted.map((entry) => entry.detail.eventId)).toEqual(changes(23).map((change) => change.event?.eventId));
    expect(bus.accepted[0]).toMatchObject({
      source: REGISTRY_EVENT_SOURCE,
      detailType: REGISTRY_DETAIL_TYPES.register,
      detail: { modelName: 'churn', version: 1, action: 'register' },
    });
    expect(bus.accepted[1]?.detailType).toBe('Model Version Promoted');
  });

  it('publishes nothing twice when Lambda delivers the same batch again', async () => {
    const bus = new RecordingBus();
    const ledger = new InMemoryPublishLedger();
    await publishRegistryEvents(changes(5), { bus, ledger });
    const again = await publishRegistryEvents(changes(5), { bus, ledger });
    expect(bus.accepted).toHaveLength(5);
    expect(again.duplicates).toHaveLength(5);
    expect(again.published).toEqual([]);
  });

  it('reports the first entry PutEvents refused, so Lambda retries from it', async () => {
    const bus = new RecordingBus((call, index) => call === 0 && index === 3);
    const result = await publishRegistryEvents(changes(6), { bus, ledger: new InMemoryPublishLedger() });
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: '1003' }]);
    expect(result.published).toEqual(['e-0000', 'e-0001', 'e-0002']);
  });

  it('skips stream records that are not inserted audit events', async () => {
    const bus = new RecordingBus();
    const batch: StreamChange[] = [{ sequence: '1', event: undefined }, ...changes(2)];
    const result = await publishRegistryEvents(batch, { bus, ledger: new InMemoryPublishLedger() });
    expect(result.published).toEqual(['e-0000', 'e-0001']);
  });

  it('leaves an event another delivery has claimed to that delivery, and takes it over when the claim lapses', async () => {
    const ledger = new InMemoryPublishLedger();
    const start = new Date('2026-01-01T00:00:00Z');
    await ledger.claim('e-0001', start);
    const bus = new RecordingBus();
    const first = await publishRegistryEvents(changes(3), { bus, ledger, now: () => start });
    expect(first.published).toEqual(['e-0000']);
    expect(first.batchItemFailures).toEqual([{ itemIdentifier: '1001' }]);
    const later = new Date(start.getTime() + 10 * 60 * 1000);
    const second = await publishRegistryEvents(changes(3).slice(1), { bus, ledger, now: () => later });
    expect(second.published).toEqual(['e-0001', 'e-0002']);
  });

  it('property: whatever PutEvents refuses and however often Lambda retries, every event reaches the bus exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 35 }),
        fc.array(fc.tuple(fc.nat(30), fc.nat(9)), { maxLength: 20 }),
        fc.integer({ min: 0, max: 3 }),
        async (count, refusals, redeliveries) => {
          const refused = new Set(refusals.map(([call, index]) => `${call}:${index}`));
          const bus = new RecordingBus((call, index) => refused.has(`${call}:${index}`));
          const ledger = new InMemoryPublishLedger();
          const now = () => new Date('2026-01-01T00:00:00Z');
          const batch = changes(count);
          expect(await deliverUntilDone(batch, bus, ledger, now)).toEqual([]);
          // At-least-once delivery of the whole batch again changes nothing.
          for (let index = 0; index < redeliveries; index++) await deliverUntilDone(batch, bus, ledger, now);
          const ids = bus.accepted.map((entry) => entry.detail.eventId);
          expect(new Set(ids).size).toBe(ids.length);
          expect([...ids].sort()).toEqual(batch.map((change) => change.event?.eventId));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('stream records', () => {
  it('reads the audit event an INSERT of an event item wrote, without the table keys', () => {
    const event = audit(4);
    const image = marshall({ ...event, PK: 'MODEL#churn', SK: `EVENT#${event.at}#${event.eventId}`, entity: 'event' });
    expect(auditEventOf({ eventName: 'INSERT', dynamodb: { NewImage: image as never, SequenceNumber: '7' } })).toEqual(event);
    expect(auditEventOf({ eventName: 'MODIFY', dynamodb: { NewImage: image as never } })).toBeUndefined();
    const model = marshall({ PK: 'MODEL#churn', SK: 'META', entity: 'model', revision: 3 });
    expect(auditEventOf({ eventName: 'INSERT', dynamodb: { NewImage: model as never } })).toBeUndefined();
    const inserted = { eventName: 'INSERT', dynamodb: { NewImage: image as never, SequenceNumber: '7' } };
    expect(streamChanges([inserted])).toEqual([{ sequence: '7', event }]);
  });
});
