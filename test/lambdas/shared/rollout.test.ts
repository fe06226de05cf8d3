/**
 * The rollout contract shared by both serving paths: the event schemas (the run id is a Step
 * Functions execution name, the deployment at most 4,096 bytes of JSON), reading a deployment
 * back, and the names and reasons a rollout records in the registry.
 */

import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import {
  beginEventSchema,
  beginIdempotencyKey,
  MAX_DEPLOYMENT_BYTES,
  parseDeployment,
  pollEventSchema,
  registryReason,
  rolloutActor,
} from '../../../lambdas/shared/rollout';

describe('the rollout events', () => {
  const begin = (runId: string) => beginEventSchema.safeParse({ action: 'begin', version: 1, runId });

  it('take a run id of 1 to 80 letters, digits, - and _, whole', () => {
    expect(begin('a').success).toBe(true);
    expect(begin('A-z_0'.repeat(16)).success).toBe(true);
    for (const runId of ['', 'x'.repeat(81), 'run 7', 'run!', '!run']) {
      const result = begin(runId);
      expect(result.success, runId).toBe(false);
      expect(result.error?.issues[0]?.message, runId).toBe('must be a Step Functions execution name: 1-80 letters, digits, - or _');
    }
  });

  it(`take a deployment of at most ${MAX_DEPLOYMENT_BYTES} bytes of JSON, and name the field when it is larger`, () => {
    const deployment = (bytes: number) => ({ padding: 'x'.repeat(bytes - '{"padding":""}'.length) });
    expect(Buffer.byteLength(JSON.stringify(deployment(MAX_DEPLOYMENT_BYTES)))).toBe(MAX_DEPLOYMENT_BYTES);
    expect(pollEventSchema.safeParse({ action: 'poll', version: 1, deployment: deployment(MAX_DEPLOYMENT_BYTES) }).success).toBe(true);
    const tooLarge = pollEventSchema.safeParse({ action: 'poll', version: 1, deployment: deployment(MAX_DEPLOYMENT_BYTES + 1) });
    expect(tooLarge.error?.issues).toEqual([
      expect.objectContaining({ path: ['deployment'], message: 'deployment must be at most 4096 bytes of JSON' }),
    ]);
  });
});

describe('parseDeployment', () => {
  const schema = z.object({ version: z.number(), startedAt: z.string() });

  it('reads back a deployment of the polled version', () => {
    const deployment = { version: 2, startedAt: '2026-11-23T10:00:00.000Z' };
    expect(parseDeployment(schema, { action: 'poll', version: 2, deployment })).toEqual(deployment);
  });

  it('refuses a deployment this function did not return, saying what is wrong with it', () => {
    expect(() => parseDeployment(schema, { action: 'poll', version: 2, deployment: { version: 2 } })).toThrow(
      /^invalid poll request: deployment is not one this function returned: .*startedAt/s,
    );
  });
});

describe('what a rollout records', () => {
  it('keys the Staging change of a run by its id', () => {
    expect(beginIdempotencyKey('run-7')).toBe('run-7:rollout-begin');
  });

  it('keeps a reason of up to 1,024 characters and cuts a longer one to 1,024 with an ellipsis', () => {
    expect(registryReason('r'.repeat(1024))).toBe('r'.repeat(1024));
    const cut = registryReason(`${'r'.repeat(1021)}stuv`);
    expect(cut).toBe(`${'r'.repeat(1021)}...`);
    expect(cut).toHaveLength(1024);
  });

  it('names the model, and the run when there is one, as the actor', () => {
    expect(rolloutActor('churn', 'run-7')).toBe('rollout:churn:run-7');
    expect(rolloutActor('churn')).toBe('rollout:churn');
  });
});
