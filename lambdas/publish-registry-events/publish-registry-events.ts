/**
 * Publishes the registry's changes to EventBridge, once each. Input: records of the registry
 * table's DynamoDB stream (the audit events the registry writes with every change, inserted
 * once); output: one EventBridge entry per audit event (contracts/registry-events.ts), in stream
 * order. A ledger of published event ids makes the function idempotent: a batch Lambda delivers
 * again (after a timeout or a partial failure) publishes nothing twice. A failure reports the
 * first record not published, so Lambda retries from there and the stream's order holds.
 */

import type { AuditEvent } from '../../contracts/registry';
import { type RegistryEventEntry, registryEventOf } from '../../contracts/registry-events';

/** EventBridge PutEvents takes at most 10 entries per request. */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** How long a claim on an event id holds before another delivery may publish it (a crashed invocation's claim). */
export const CLAIM_LEASE_MS = 5 * 60 * 1000;

/** One record of a stream batch: its sequence number, and the audit event it inserted (none for any other change). */
export interface StreamChange {
  readonly sequence: string;
  readonly event: AuditEvent | undefined;
}

export type PutOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

export interface RegistryEventBus {
  /** PutEvents of at most 10 entries; one outcome per entry, in order. */
  put(entries: readonly RegistryEventEntry[]): Promise<PutOutcome[]>;
}

export type ClaimResult = 'claimed' | 'published' | 'in-progress';

/** Which event ids were published: a claim before PutEvents, a mark after it. */
export interface PublishLedger {
  claim(eventId: string, now: Date): Promise<ClaimResult>;
  markPublished(eventId: string): Promise<void>;
  /** Gives a claim up after a failed PutEvents, so the retry may claim it again. */
  release(eventId: string): Promise<void>;
}

export interface PublishResult {
  readonly published: string[];
  /** Event ids a delivery before this one published already. */
  readonly duplicates: string[];
  /** Lambda's partial batch response: the first record not published (Lambda retries from it). */
  readonly batchItemFailures: Array<{ itemIdentifier: string }>;
}

export async function publishRegistryEvents(
  changes: readonly StreamChange[],
  dependencies: { bus: RegistryEventBus; ledger: PublishLedger; now?: () => Date },
): Promise<PublishResult> {
  const { bus, ledger } = dependencies;
  const now = dependencies.now ?? (() => new Date());
  const published: string[] = [];
  const duplicates: string[] = [];
  let pending: Array<{ sequence: string; entry: RegistryEventEntry }> = [];
  const failAt = (sequence: string): PublishResult => ({ published, duplicates, batchItemFailures: [{ itemIdentifier: sequence }] });

  /** Publishes what is claimed; the sequence number of the first entry not published, if any. */
  const flush = async (): Promise<string | undefined> => {
    const batch = pending;
    pending = [];
    if (batch.length === 0) return undefined;
    let outcomes: PutOutcome[];
    try {
      outcomes = await bus.put(batch.map(({ entry }) => entry));
    } catch (error) {
      outcomes = batch.map(() => ({ ok: false, error: (error as Error).name }));
    }
    let firstFailed: number | undefined;
    for (const [index, { entry }] of batch.entries()) {
      if (firstFailed === undefined && outcomes[index]?.ok) {
        await ledger.markPublished(entry.detail.eventId);
        published.push(entry.detail.eventId);
        continue;
      }
      firstFailed ??= index;
      // Published or not, everything from the first failure on is retried in stream order.
      if (outcomes[index]?.ok) await ledger.markPublished(entry.detail.eventId);
      else await ledger.release(entry.detail.eventId);
    }
    return firstFailed === undefined ? undefined : batch[firstFailed]!.sequence;
  };

  for (const { sequence, event } of changes) {
    if (!event) continue;
    const claim = await ledger.claim(event.eventId, now());
    if (claim === 'published') {
      duplicates.push(event.eventId);
      continue;
    }
    if (claim === 'in-progress') {
      // Another delivery holds it: publish what is claimed, then let Lambda retry from here.
      const failed = await flush();
      return failAt(failed ?? sequence);
    }
    pending.push({ sequence, entry: registryEventOf(event) });
    if (pending.length === PUT_EVENTS_MAX_ENTRIES) {
      const failed = await flush();
      if (failed) return failAt(failed);
    }
  }
  const failed = await flush();
  return failed ? failAt(failed) : { published, duplicates, batchItemFailures: [] };
}

/** A ledger in memory: the offline runtime's and the tests'. */
export class InMemoryPublishLedger implements PublishLedger {
  private readonly entries = new Map<string, { status: 'claimed' | 'published'; leaseUntil: number }>();

  async claim(eventId: string, now: Date): Promise<ClaimResult> {
    const entry = this.entries.get(eventId);
    if (entry?.status === 'published') return 'published';
    if (entry && entry.leaseUntil > now.getTime()) return 'in-progress';
    this.entries.set(eventId, { status: 'claimed', leaseUntil: now.getTime() + CLAIM_LEASE_MS });
    return 'claimed';
  }

  async markPublished(eventId: string): Promise<void> {
    this.entries.set(eventId, { status: 'published', leaseUntil: 0 });
  }

  async release(eventId: string): Promise<void> {
    if (this.entries.get(eventId)?.status === 'claimed') this.entries.delete(eventId);
  }
}
