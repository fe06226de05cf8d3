/**
 * The serving container's environment contract (contracts/serving-container.ts) against the
 * container's own reading of it (containers/onnx-serving/settings.ts): what the stack and the
 * deploy function put in CreateModel's Environment is what the container starts with.
 */
import { describe, expect, it } from 'vitest';
import { settingsFromEnvironment } from '../../containers/onnx-serving/settings';
import { servingContainerEnvironment } from '../../contracts/serving-container';
import type { ModelSchema } from '../../contracts/serving-schema';
import { CHURN_SCHEMA } from '../../testkit/churn-model';

describe('servingContainerEnvironment', () => {
  /** A schema far over one environment value: many categories, names with multi-byte characters. */
  const wideSchema: ModelSchema = {
    modelName: 'wide',
    problemType: 'multiclass-classification',
    features: Array.from({ length: 60 }, (_, index) => ({
      name: `catégorie_${index}`,
      type: 'category' as const,
      nullable: true,
      allowedValues: ['été', 'hiver', 'printemps', 'automne', '秋'],
    })),
    ignoredColumns: [],
    classLabels: ['a', 'b', 'c'],
  };

  it('passes a schema that fits one value as MODEL_SCHEMA, with MODEL_VERSION for a registry version', () => {
    expect(servingContainerEnvironment(CHURN_SCHEMA)).toEqual({ MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA) });
    expect(servingContainerEnvironment(CHURN_SCHEMA, 4)).toEqual({ MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), MODEL_VERSION: '4' });
  });

  it('splits a longer schema into parts within CreateModel’s 1024-byte values, which the container joins back', () => {
    const environment = servingContainerEnvironment(wideSchema, 2);
    const parts = Object.keys(environment).filter((name) => name.startsWith('MODEL_SCHEMA_PART_'));
    expect(parts.length).toBeGreaterThan(3);
    expect(environment.MODEL_SCHEMA).toBeUndefined();
    for (const name of parts) expect(Buffer.byteLength(environment[name]!)).toBeLessThanOrEqual(1024);
    expect(settingsFromEnvironment(environment)).toMatchObject({ schema: wideSchema, modelVersion: 2 });
  });

  it('refuses a schema over the 32 KB SageMaker allows a container environment, and a version that is not one', () => {
    const huge: ModelSchema = {
      ...wideSchema,
      features: [...wideSchema.features, ...wideSchema.features.map((f) => ({ ...f, name: `${f.name}_${'x'.repeat(600)}` }))],
    };
    expect(() => servingContainerEnvironment(huge)).toThrow(
      /^model "wide": its serving schema needs \d+ bytes of container environment, over the 32768/,
    );
    expect(() => servingContainerEnvironment(CHURN_SCHEMA, 0)).toThrow(
      'modelVersion must be a registry version (a positive integer), got 0',
    );
  });
});
