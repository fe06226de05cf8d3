/** The publisher's EventBridge side: PutEvents on the platform's bus, one outcome per entry. */
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { RegistryEventEntry } from '../../contracts/registry-events';
import type { PutOutcome, RegistryEventBus } from './publish-registry-events';

export class EventBridgeRegistryBus implements RegistryEventBus {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly eventBusName: string,
  ) {}

  async put(entries: readonly RegistryEventEntry[]): Promise<PutOutcome[]> {
    const answer = await this.client.send(
      new PutEventsCommand({
        Entries: entries.map((entry) => ({
          EventBusName: this.eventBusName,
          Source: entry.source,
          DetailType: entry.detailType,
          Detail: JSON.stringify(entry.detail),
          Time: new Date(entry.detail.at),
        })),
      }),
    );
    return entries.map((_, index) => {
      const result = answer.Entries?.[index];
      return result?.EventId && !result.ErrorCode ? { ok: true } : { ok: false, error: result?.ErrorCode ?? 'NoResult' };
    });
  }
}
