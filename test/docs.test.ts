/**
 * Generated references stay in step with their sources: docs/configuration.md with the
 * configuration schema (a field added, a default or a limit changed without `npm run docs:config`
 * fails here).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_DOC_PATH, configurationReference } from '../scripts/configuration-docs';

describe('docs/configuration.md', () => {
  it('is what `npm run docs:config` generates from the configuration schema', () => {
    expect(readFileSync(CONFIGURATION_DOC_PATH, 'utf8')).toBe(configurationReference());
  });

  it('lists every field the old hand-written table missed, with its default and limits', () => {
    const reference = configurationReference();
    for (const row of ['`models[].columns[].regex`', '`models[].columns[].unique`', '`serving.imageUri`', '`serving.dataCapturePercent`']) {
      expect(reference).toContain(row);
    }
    expect(reference).toMatch(/\| `projectName` \(required\) \| string \| {2}\| ≤ 24 characters/);
    expect(reference).toMatch(/\| `drift\.windowHours` \| integer \| `24` \| 1–336 \|/);
  });
});
