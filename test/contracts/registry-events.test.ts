import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../contracts/registry';
import { REGISTRY_DETAIL_TYPES, registryEventDetailSchema, registryEventOf } from '../../contracts/registry-events';

const doc = readFileSync(path.join(__dirname, '../../docs/registry-events.md'), 'utf8');

describe('registry events', () => {
  it('documents every detail type with its action, and the detail schema exactly as the contract has it', () => {
    for (const [action, detailType] of Object.entries(REGISTRY_DETAIL_TYPES)) {
      expect(doc).toMatch(new RegExp(`\\| \`${detailType}\`\\s+\\| \`${action}\`\\s+\\|`));
    }
    const schemaBlock = /## `detail` JSON schema[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
    expect(JSON.parse(schemaBlock ?? 'null')).toEqual(registryEventDetailSchema);
  });

  it('maps an audit event to a cdk-mlops entry whose detail the schema describes, without absent fields', () => {
    const event: AuditEvent = {
      eventId: '0000000003.00-abc',
      modelName: 'churn',
      at: '2026-01-01T00:00:00.000Z',
      actor: 'cognito:alice',
      action: 'promote',
      version: 3,
      fromStage: 'Staging',
      toStage: 'Production',
    };
    const entry = registryEventOf(event);
    expect(entry).toEqual({ source: 'cdk-mlops', detailType: 'Model Version Promoted', detail: { ...event } });
    const allowed = Object.keys(registryEventDetailSchema.properties as object);
    expect(Object.keys(entry.detail).every((key) => allowed.includes(key))).toBe(true);
    expect(registryEventOf({ ...event, action: 'pipeline-failure', version: undefined } as AuditEvent).detail).not.toHaveProperty(
      'version',
    );
  });
});
