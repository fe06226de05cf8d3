/**
 * Finds the model version to serve in the registry and fetches its ONNX bytes: the
 * artifact (`model.tar.gz` as training writes it, or a bare `.onnx`) is read from S3, its
 * SHA-256 checked against the one the registry recorded, and `model.onnx` taken out of it.
 */
import type { VersionRecord } from '../../../contracts/registry';
import { NotFoundError } from '../errors';
import type { ArtifactObjects } from '../object-store';
import type { RegistryStore } from '../registry/registry-store';
import { ArtifactIntegrityError, modelBytesOf, type ServedModelFiles, servedModelOf, sha256Hex } from './model-artifact';

export type RegistryReader = Pick<RegistryStore, 'getModel' | 'getVersion'>;

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
  const { artifact, key } = await fetchVerifiedArtifact(objects, version);
  return modelBytesOf(artifact, key, version.artifactUri);
}

/** Downloads the version's artifact, verifies its SHA-256 and returns the model with its training ranges. */
export async function fetchServedModel(objects: ArtifactObjects, version: VersionRecord): Promise<ServedModelFiles> {
  const { artifact, key } = await fetchVerifiedArtifact(objects, version);
  return servedModelOf(artifact, key, version.artifactUri);
}

async function fetchVerifiedArtifact(objects: ArtifactObjects, version: VersionRecord): Promise<{ artifact: Uint8Array; key: string }> {
  const { bucket, key } = parseS3Uri(version.artifactUri);
  const artifact = await objects.getBytes(bucket, key);
  const actual = sha256Hex(artifact);
  if (actual !== version.artifactSha256) {
    throw new ArtifactIntegrityError(
      `artifact ${version.artifactUri} of ${version.modelName} v${version.version} has SHA-256 ${actual}, the registry recorded ${version.artifactSha256}`,
      { modelName: version.modelName, version: version.version },
    );
  }
  return { artifact, key };
}
