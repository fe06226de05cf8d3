/**
 * Generated references stay in step with their sources: docs/configuration.md with the
 * configuration schema (a field added, a default or a limit changed without `npm run docs:config`
 * fails here), docs/api-reference.md with the package's exported constructs (`npm run docs:api`).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { platformConfigSchema } from '../contracts/platform-config';
import { API_REFERENCE_PATH, apiReference, type ConstructDoc, constructDocs } from '../scripts/api-reference';
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

describe('docs/api-reference.md', () => {
  let docs: ConstructDoc[];
  // One TypeScript program over lib/index.ts: seconds on a loaded machine.
  beforeAll(() => {
    docs = constructDocs();
  }, 120_000);

  it('is what `npm run docs:api` generates from the package entry', () => {
    expect(readFileSync(API_REFERENCE_PATH, 'utf8')).toBe(apiReference());
  });

  it('documents every optional prop of every exported construct with an @default', () => {
    const missing = docs.flatMap((doc) =>
      doc.props.filter((prop) => prop.optional && !prop.defaultValue).map((prop) => `${doc.name}.${prop.name}`),
    );
    expect(missing).toEqual([]);
    expect(docs.map((doc) => doc.name)).toEqual(
      expect.arrayContaining([
        'MlopsPlatform',
        'TrainingPipeline',
        'ModelRegistry',
        'DriftMonitor',
        'ServerlessInference',
        'SageMakerEndpoint',
      ]),
    );
  });

  it("lists MlopsPlatform's configuration props as exactly the schema's fields, and its resource props beside them", () => {
    const platform = docs.find((doc) => doc.name === 'MlopsPlatform')!;
    expect([...platform.configurationFields].sort()).toEqual(Object.keys(platformConfigSchema.shape).sort());
    expect(platform.props.map((prop) => prop.name)).toEqual(
      expect.arrayContaining([
        'existingDatasetsBucket',
        'datasetsBucketProps',
        'existingEncryptionKey',
        'existingAlertTopic',
        'permissionsBoundary',
      ]),
    );
  });
});
