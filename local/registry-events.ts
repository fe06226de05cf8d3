/**
 * The registry's events offline. Deployed, the registry table's stream feeds the publisher
 * function (lambdas/publish-registry-events); offline, the runtime reads each model's audit trail
 * in place of the stream (DynamoDB Local's streams need a client the project does not ship) and runs
 * the same publisher core over it, with the same ledger rule: an event id is published once, so
 * re-reading the trail publishes only what is new. The "bus" is a list (and, with a workspace, a
 * JSON Lines file that outlasts the process and seeds the ledger on the next start).
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import type { AuditEvent } from '../contracts/registry';
import type { RegistryEventEntry } from '../contracts/registry-events';
import {
  InMemoryPublishLedger,
  type PutOutcome,
  publishRegistryEvents,
  type RegistryEventBus,
  type StreamChange,
} from '../lambdas/publish-registry-events/publish-registry-events';
import type { RegistryStore } from '../lambdas/shared/registry/registry-store';

export class LocalRegistryEvents implements RegistryEventBus {
  /** Every entry published, in publishing order (earlier runs of the workspace first). */
  readonly published: RegistryEventEntry[] = [];
  private readonly ledger = new InMemoryPublishLedger();
  private pumping: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: Pick<RegistryStore, 'listEvents'>,
    private readonly modelNames: readonly string[],
    /** JSON Lines of published entries (the workspace's); none keeps them in memory only. */
    private readonly file?: string,
  ) {
    if (file && existsSync(file)) {
      for (const line of readFileSync(file, 'utf8').split('\n')) {
        if (line.trim() === '') continue;
        const entry = JSON.parse(line) as RegistryEventEntry;
        this.published.push(entry);
        void this.ledger.markPublished(entry.detail.eventId);
      }
    }
  }

  async put(entries: readonly RegistryEventEntry[]): Promise<PutOutcome[]> {
    for (const entry of entries) {
      this.published.push(entry);
      if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
    }
    return entries.map(() => ({ ok: true }));
  }

  /** Publishes the changes recorded since the last call; one call at a time, in order. */
  pump(): Promise<void> {
    this.pumping = this.pumping.then(() => this.publishNew());
    return this.pumping;
  }

  /** The entries of one model, oldest first. */
  of(modelName: string): RegistryEventEntry[] {
    return this.published.filter((entry) => entry.detail.modelName === modelName);
  }

  private async publishNew(): Promise<void> {
    const changes: StreamChange[] = [];
    for (const modelName of this.modelNames) {
      const trail = await this.trail(modelName);
      // The stream's order within a model: the order the registry wrote the events.
      trail.sort((a, b) => (a.at === b.at ? a.eventId.localeCompare(b.eventId) : a.at.localeCompare(b.at)));
      changes.push(...trail.map((event) => ({ sequence: event.eventId, event })));
    }
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await publishRegistryEvents(changes, { bus: this, ledger: this.ledger });
      if (result.batchItemFailures.length === 0) return;
    }
  }

  private async trail(modelName: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.listEvents(modelName, { limit: 100, ...(cursor ? { cursor } : {}) });
      events.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return events;
  }
}
