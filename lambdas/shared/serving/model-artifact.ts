/**
 * A model artifact as training writes it: `model.tar.gz` with `model.onnx` at its root (or a
 * bare `.onnx` object). Shared by predict (which verifies the SHA-256 the registry recorded)
 * and evaluate-model (which computes it for the registry to record).
 */
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
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

/** Reads `model.onnx` (at the root, with or without `./`) out of a tar or tar.gz archive. */
export async function extractModelFile(archive: Uint8Array, source = 'artifact'): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  let found = false;
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      filter: (path) => path.replace(/^\.\//, '') === MODEL_FILE_NAME,
      onReadEntry: (entry: ReadEntry) => {
        found = true;
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
      },
    });
    parser.on('error', reject);
    parser.on('end', () => resolve());
    parser.end(Buffer.from(archive.buffer, archive.byteOffset, archive.byteLength));
  });
  if (!found) throw new ArtifactIntegrityError(`${source} holds no ${MODEL_FILE_NAME} at its root`, { source });
  return Buffer.concat(chunks);
}
