/**
 * A model artifact as training writes it: `model.tar.gz` with `model.onnx` at its root, and
 * `serving-schema.json` beside it when the training program wrote one (or a bare `.onnx` object).
 * Shared by predict (which verifies the SHA-256 the registry recorded and reads the training
 * ranges), evaluate-model (which computes the SHA-256 for the registry to record) and the
 * endpoint's serving container (which finds the same two files extracted in /opt/ml/model).
 */
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import { SERVING_SCHEMA_FILE, type TrainingRanges, trainingRangesSchema } from '../../../contracts/serving-schema';
import { PlatformError } from '../errors';

/** The file the training container contract puts at the root of the artifact. */
export const MODEL_FILE_NAME = 'model.onnx';

/** The artifact's bytes differ from what the registry recorded, or it holds no model: never score it. */
export class ArtifactIntegrityError extends PlatformError {
  override readonly name = 'ArtifactIntegrityError';
  readonly code = 'ArtifactIntegrity';
  readonly httpStatus = 500;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The ONNX bytes of an artifact object: the object itself when its key ends in `.onnx`, else its `model.onnx`. */
export async function modelBytesOf(artifact: Uint8Array, key: string, source: string): Promise<Uint8Array> {
  return key.endsWith('.onnx') ? artifact : extractModelFile(artifact, source);
}

/** What serving needs of an artifact: the ONNX bytes and, when the artifact has them, the training ranges. */
export interface ServedModelFiles {
  readonly modelBytes: Uint8Array;
  readonly trainingRanges?: TrainingRanges;
}

/** The model and its training ranges from an artifact object (a bare `.onnx` has no ranges). */
export async function servedModelOf(artifact: Uint8Array, key: string, source: string): Promise<ServedModelFiles> {
  if (key.endsWith('.onnx')) return { modelBytes: artifact };
  const files = await extractFiles(artifact, [MODEL_FILE_NAME, SERVING_SCHEMA_FILE]);
  const modelBytes = files.get(MODEL_FILE_NAME);
  if (!modelBytes) throw new ArtifactIntegrityError(`${source} holds no ${MODEL_FILE_NAME} at its root`, { source });
  const schemaBytes = files.get(SERVING_SCHEMA_FILE);
  return { modelBytes, ...(schemaBytes ? { trainingRanges: trainingRangesOf(schemaBytes, `${source} ${SERVING_SCHEMA_FILE}`) } : {}) };
}

/**
 * The training ranges of a serving-schema.json (undefined when it names none, as for a model
 * trained before ranges were measured). A file that is not the schema is an integrity fault:
 * the version is not served on a contract nobody can read.
 */
export function trainingRangesOf(schemaBytes: Uint8Array, source: string): TrainingRanges | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(schemaBytes).toString('utf8'));
  } catch (error) {
    throw new ArtifactIntegrityError(`${source} is not JSON: ${(error as Error).message}`, { source });
  }
  const ranges = (parsed as { trainingRanges?: unknown } | null)?.trainingRanges;
  if (ranges === undefined) return undefined;
  const result = trainingRangesSchema.safeParse(ranges);
  if (!result.success) throw new ArtifactIntegrityError(`${source} has unreadable trainingRanges: ${result.error.message}`, { source });
  return result.data;
}

/** Reads `model.onnx` (at the root, with or without `./`) out of a tar or tar.gz archive. */
export async function extractModelFile(archive: Uint8Array, source = 'artifact'): Promise<Uint8Array> {
  const model = (await extractFiles(archive, [MODEL_FILE_NAME])).get(MODEL_FILE_NAME);
  if (!model) throw new ArtifactIntegrityError(`${source} holds no ${MODEL_FILE_NAME} at its root`, { source });
  return model;
}

/** The named files at the root of a tar or tar.gz archive (with or without `./`), in one pass. */
async function extractFiles(archive: Uint8Array, names: readonly string[]): Promise<Map<string, Buffer>> {
  const chunks = new Map<string, Buffer[]>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      filter: (path) => names.includes(path.replace(/^\.\//, '')),
      onReadEntry: (entry: ReadEntry) => {
        const parts: Buffer[] = [];
        chunks.set(entry.path.replace(/^\.\//, ''), parts);
        entry.on('data', (chunk: Buffer) => parts.push(chunk));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength));
  });
  return new Map([...chunks].map(([name, parts]) => [name, Buffer.concat(parts)]));
}
