/**
 * The serving container's environment contract: the variables CreateModel's
 * `PrimaryContainer.Environment` gives the ONNX serving container (containers/onnx-serving reads
 * them), built once here for both sides that create SageMaker models — the stack (the bootstrap
 * model an endpoint starts with) and the deploy function (one model per rolled-out version) — so
 * the two pass the same environment.
 */
import type { ModelSchema } from './serving-schema';

/** The serving schema as JSON, when it fits in one environment value. */
export const MODEL_SCHEMA_VARIABLE = 'MODEL_SCHEMA';
/**
 * The serving schema split over `MODEL_SCHEMA_PART_1`, `_2`, ... (joined in order): CreateModel
 * allows 1024 bytes per environment value, less than a model with many features or categories needs.
 */
export const MODEL_SCHEMA_PART_PREFIX = 'MODEL_SCHEMA_PART_';
/** The registry version in the model directory; absent for the bootstrap model. */
export const MODEL_VERSION_VARIABLE = 'MODEL_VERSION';

/**
 * CreateModel's `PrimaryContainer.Environment`: each value at most 1024 bytes, all names and
 * values together at most 32 KB.
 */
export const SAGEMAKER_ENVIRONMENT_VALUE_MAX_BYTES = 1024;
export const SAGEMAKER_ENVIRONMENT_MAX_BYTES = 32 * 1024;

/**
 * The container environment of a model: its serving schema (whole in MODEL_SCHEMA, or split
 * over MODEL_SCHEMA_PART_1..N when longer than one value may be) and, for a registry version,
 * MODEL_VERSION. Without MODEL_VERSION and without a model artifact, the container starts as the
 * bootstrap model. Throws, naming the model, when the schema cannot fit SageMaker's environment.
 */
export function servingContainerEnvironment(schema: ModelSchema, modelVersion?: number): Record<string, string> {
  if (modelVersion !== undefined && !(Number.isInteger(modelVersion) && modelVersion > 0)) {
    throw new Error(`modelVersion must be a registry version (a positive integer), got ${modelVersion}`);
  }
  const text = JSON.stringify(schema);
  const parts = splitUtf8(text, SAGEMAKER_ENVIRONMENT_VALUE_MAX_BYTES);
  const environment: Record<string, string> =
    parts.length === 1
      ? { [MODEL_SCHEMA_VARIABLE]: text }
      : Object.fromEntries(parts.map((part, index) => [`${MODEL_SCHEMA_PART_PREFIX}${index + 1}`, part]));
  if (modelVersion !== undefined) environment[MODEL_VERSION_VARIABLE] = String(modelVersion);
  const bytes = Object.entries(environment).reduce((total, [name, value]) => total + utf8Length(name) + utf8Length(value), 0);
  if (bytes > SAGEMAKER_ENVIRONMENT_MAX_BYTES) {
    throw new Error(
      `model "${schema.modelName}": its serving schema needs ${bytes} bytes of container environment, over the ${SAGEMAKER_ENVIRONMENT_MAX_BYTES} SageMaker allows`,
    );
  }
  return environment;
}

/** Pieces of at most `maxBytes` UTF-8 bytes, cut between characters, never inside one. */
function splitUtf8(text: string, maxBytes: number): string[] {
  const parts: string[] = [];
  let current = '';
  let bytes = 0;
  for (const character of text) {
    const size = utf8Length(character);
    if (bytes + size > maxBytes) {
      parts.push(current);
      current = '';
      bytes = 0;
    }
    current += character;
    bytes += size;
  }
  parts.push(current);
  return parts;
}

const encoder = new TextEncoder();
function utf8Length(text: string): number {
  return encoder.encode(text).length;
}
