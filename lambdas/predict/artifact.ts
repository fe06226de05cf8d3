/**
 * Finds the model version to serve in the registry and fetches its ONNX bytes: the
 * artifact (`model.tar.gz` as training writes it, or a bare `.onnx`) is read from S3, its
 * SHA-256 checked against the one the registry recorded, and `model.onnx` taken out of it.
 */
import { createHash } from 'node:crypto';
import { Parser, type ReadEntry } from 'tar';
import type { VersionRecord } from '../registry/model';
import type { RegistryStore } from '../registry/store';
import { NotFoundError, PlatformError } from '../shared/errors';
import type { ArtifactObjects } from '../shared/object-store';

export type RegistryReader = Pick<RegistryStore, 'getModel' | 'getVersion'>;

/** The file the training container contract puts at the root of the artifact. */
export const MODEL_FILE_NAME = 'model.onnx';

/** The artifact's bytes differ from what the registry recorded: never serve them. */
export class ArtifactIntegrityError extends PlatformError {
  override readonly name = 'ArtifactIntegrityError';
  readonly code = 'ArtifactIntegrity';
  readonly httpStatus = 500;
}

/** The production version, or `pinnedVersion` when the function is pinned to one. */
export async function resolveServedVersion(registry: RegistryReader, modelName: string, pinnedVersion?: number): Promise<VersionRecord> {
  let version = pinnedVersion;
  if (version === undefined) {
    const model = await registry.getModel(modelName);
    if (!model) throw new NotFoundError(`model "${modelName}" is not in the registry`, { modelName });
    version = model.productionVersion;
    if (version === undefined) {
      throw new NotFoundError(`model "${modelName}" has no production version to serve; promote one first`, { modelName });
    }
  }
  const record = await registry.getVersion(modelName, version);
  if (!record) throw new NotFoundError(`model "${modelName}" has no version ${version}`, { modelName, version });
  return record;
}

export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`not an s3://bucket/key URI: ${uri}`);
  return { bucket: match[1]!, key: match[2]! };
}

/** Downloads the version's artifact, verifies its SHA-256 and returns the ONNX model bytes. */
export async function fetchModelBytes(objects: ArtifactObjects, version: VersionRecord): Promise<Uint8Array> {
  const { bucket, key } = parseS3Uri(version.artifactUri);
  const artifact = await objects.getBytes(bucket, key);
  const actual = createHash('sha256').update(artifact).digest('hex');
  if (actual !== version.artifactSha256) {
    throw new ArtifactIntegrityError(
      `artifact ${version.artifactUri} of ${version.modelName} v${version.version} has SHA-256 ${actual}, the registry recorded ${version.artifactSha256}`,
      { modelName: version.modelName, version: version.version },
    );
  }
  return key.endsWith('.onnx') ? artifact : extractModelFile(artifact, version.artifactUri);
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
