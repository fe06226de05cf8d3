/**
 * Template assertions for RegistryEvents at the figures docs/registry-events.md states: the
 * stream read one batch per shard at a time, inserted audit events only, retried 20 times over
 * records up to 24 hours old from the first one not published, then a dead-letter queue; a
 * ledger whose items expire by TTL.
 */
import { describe, it } from 'vitest';
import { ModelRegistry } from '../../lib/constructs/model-registry';
import { RegistryEvents } from '../../lib/constructs/registry-events';
import { Match, Template, testStack } from '../support/cdk';

describe('RegistryEvents', () => {
  const stack = testStack();
  const registry = new ModelRegistry(stack, 'Registry', { modelNames: ['churn'] });
  new RegistryEvents(stack, 'Events', { registry });
  const template = Template.fromStack(stack);

  it('reads the registry stream one batch per shard at a time, retrying 20 times over records up to 24 hours old, then to a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      ParallelizationFactor: 1,
      MaximumRetryAttempts: 20,
      MaximumRecordAgeInSeconds: 86_400,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FilterCriteria: {
        Filters: [{ Pattern: JSON.stringify({ eventName: ['INSERT'], dynamodb: { NewImage: { entity: { S: ['event'] } } } }) }],
      },
    });
  });

  it('keeps its ledger of published event ids under a TTL attribute', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'eventId', KeyType: 'HASH' }],
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });
});
