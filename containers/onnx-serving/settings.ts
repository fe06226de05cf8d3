/**
 * The serving container's settings, read once at startup from the environment SageMaker gives
 * the container (CreateModel's `PrimaryContainer.Environment`, plus the variables SageMaker sets
 * itself). A bad setting is a startup error naming the variable: the container never serves with
 * a schema it half understood.
 */
import * as z from 'zod';
import { MODEL_SCHEMA_PART_PREFIX, MODEL_SCHEMA_VARIABLE, MODEL_VERSION_VARIABLE } from '../../contracts/serving-container';
import { type ModelSchema, modelSchemaSchema } from '../../contracts/serving-schema';

/** Where SageMaker extracts the deployed version's model.tar.gz. */
export const DEFAULT_MODEL_DIRECTORY = '/opt/ml/model';
/** The port SageMaker's container contract sends /ping and /invocations to. */
export const DEFAULT_PORT = 8080;

export interface ServingSettings {
  /** Holds `model.onnx`, or nothing before the first version is deployed. */
  readonly modelDirectory: string;
  /** 0 lets the operating system pick a free port (tests); the chosen one is logged. */
  readonly port: number;
  /** Required when the model directory holds a model. */
  readonly schema?: ModelSchema;
  /** The registry version in the model directory; absent for a model not from the registry. */
  readonly modelVersion?: number;
}

/** A setting the container cannot start with. */
export class SettingsError extends Error {
  override readonly name = 'SettingsError';
}

const environmentSchema = z.object({
  SM_MODEL_DIR: z.string().min(1).default(DEFAULT_MODEL_DIRECTORY),
  SAGEMAKER_BIND_TO_PORT: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_PORT),
  [MODEL_VERSION_VARIABLE]: z.coerce.number().int().positive().optional(),
});

export function settingsFromEnvironment(environment: NodeJS.ProcessEnv): ServingSettings {
  const parsed = environmentSchema.safeParse(withoutEmptyValues(environment));
  if (!parsed.success) throw new SettingsError(`the serving container's environment is invalid: ${z.prettifyError(parsed.error)}`);
  const schemaText = modelSchemaText(environment);
  return {
    modelDirectory: parsed.data.SM_MODEL_DIR,
    port: parsed.data.SAGEMAKER_BIND_TO_PORT,
    ...(schemaText === undefined ? {} : { schema: parseModelSchema(schemaText) }),
    ...(parsed.data[MODEL_VERSION_VARIABLE] === undefined ? {} : { modelVersion: parsed.data[MODEL_VERSION_VARIABLE] }),
  };
}

/** An empty variable means unset (`MODEL_VERSION=` in a shell, a blank value in a console form). */
function withoutEmptyValues(environment: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== ''),
  );
}

/** MODEL_SCHEMA, or MODEL_SCHEMA_PART_1..N joined; undefined when neither is set. */
function modelSchemaText(environment: NodeJS.ProcessEnv): string | undefined {
  const whole = environment[MODEL_SCHEMA_VARIABLE];
  const partNumbers = Object.keys(environment)
    .filter((name) => name.startsWith(MODEL_SCHEMA_PART_PREFIX))
    .map((name) => {
      const number = Number(name.slice(MODEL_SCHEMA_PART_PREFIX.length));
      if (!Number.isInteger(number) || number < 1) throw new SettingsError(`${name} is not a schema part: parts are numbered from 1`);
      return number;
    })
    .sort((a, b) => a - b);
  if (partNumbers.length === 0) return whole || undefined;
  if (whole) throw new SettingsError(`set ${MODEL_SCHEMA_VARIABLE} or ${MODEL_SCHEMA_PART_PREFIX}1..N, not both`);
  partNumbers.forEach((number, index) => {
    if (number !== index + 1)
      throw new SettingsError(`${MODEL_SCHEMA_PART_PREFIX}${index + 1} is missing (found parts ${partNumbers.join(', ')})`);
  });
  return partNumbers.map((number) => environment[`${MODEL_SCHEMA_PART_PREFIX}${number}`]).join('');
}

function parseModelSchema(text: string): ModelSchema {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new SettingsError(`${MODEL_SCHEMA_VARIABLE} is not JSON: ${(error as Error).message}`);
  }
  const parsed = modelSchemaSchema.safeParse(json);
  if (!parsed.success) throw new SettingsError(`${MODEL_SCHEMA_VARIABLE} is not a valid model schema: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}
