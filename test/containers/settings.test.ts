/**
 * The serving container's settings: SageMaker's defaults, the serving schema whole or in parts,
 * and startup errors that name the variable at fault.
 */
import { describe, expect, it } from 'vitest';
import { settingsFromEnvironment } from '../../containers/onnx-serving/settings';
import { CHURN_SCHEMA } from '../../testkit/churn-model';

const schema = JSON.stringify(CHURN_SCHEMA);

describe('settingsFromEnvironment', () => {
  it('defaults to SageMaker’s model directory and port, with no schema and no version', () => {
    expect(settingsFromEnvironment({})).toEqual({ modelDirectory: '/opt/ml/model', port: 8080 });
  });

  it('reads the directory, port, schema and version, treating an empty variable as unset', () => {
    expect(
      settingsFromEnvironment({ SM_MODEL_DIR: '/tmp/model', SAGEMAKER_BIND_TO_PORT: '9090', MODEL_SCHEMA: schema, MODEL_VERSION: '12' }),
    ).toEqual({ modelDirectory: '/tmp/model', port: 9090, schema: CHURN_SCHEMA, modelVersion: 12 });
    expect(settingsFromEnvironment({ MODEL_VERSION: '', MODEL_SCHEMA: '' })).toEqual({ modelDirectory: '/opt/ml/model', port: 8080 });
  });

  it('joins MODEL_SCHEMA_PART_1..N in numeric order', () => {
    const cut = [schema.slice(0, 100), schema.slice(100, 200), schema.slice(200)];
    const parts = Object.fromEntries(cut.map((part, index) => [`MODEL_SCHEMA_PART_${index + 1}`, part]).reverse());
    expect(settingsFromEnvironment(parts).schema).toEqual(CHURN_SCHEMA);
    const ten = Array.from({ length: 10 }, (_, index) => schema.slice(index * 60, index === 9 ? undefined : (index + 1) * 60));
    expect(settingsFromEnvironment(Object.fromEntries(ten.map((part, index) => [`MODEL_SCHEMA_PART_${index + 1}`, part]))).schema).toEqual(
      CHURN_SCHEMA,
    );
  });

  it.each([
    [{ SAGEMAKER_BIND_TO_PORT: '80000' }, /SAGEMAKER_BIND_TO_PORT/],
    [{ MODEL_VERSION: '0' }, /MODEL_VERSION/],
    [{ MODEL_VERSION: 'latest' }, /MODEL_VERSION/],
    [{ MODEL_SCHEMA: '{"modelName": ' }, /^MODEL_SCHEMA is not JSON/],
    [{ MODEL_SCHEMA: JSON.stringify({ ...CHURN_SCHEMA, features: [] }) }, /^MODEL_SCHEMA is not a valid model schema:[\s\S]*features/],
    [{ MODEL_SCHEMA: schema, MODEL_SCHEMA_PART_1: schema }, /^set MODEL_SCHEMA or MODEL_SCHEMA_PART_1\.\.N, not both$/],
    [
      { MODEL_SCHEMA_PART_1: schema.slice(0, 10), MODEL_SCHEMA_PART_3: schema.slice(10) },
      /^MODEL_SCHEMA_PART_2 is missing \(found parts 1, 3\)$/,
    ],
    [{ MODEL_SCHEMA_PART_0: schema }, /^MODEL_SCHEMA_PART_0 is not a schema part/],
  ])('refuses %o, naming the variable', (environment, message) => {
    expect(() => settingsFromEnvironment(environment)).toThrow(message);
  });
});
