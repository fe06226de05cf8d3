/**
 * The object storage the data functions need (list, stream, ranged reads, small reads, writes),
 * as an interface for the domain code (s3-object-store.ts implements it on S3), and S3 URIs.
 */
import { ValidationError } from './errors';
import type { ByteSource } from './readers/bytes';
import type { AsyncBuffer } from './readers/parquet';

export interface StoredObject {
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

export interface ObjectStore {
  /** Objects under a prefix, in key order, without folder placeholders (keys ending in "/"). */
  list(bucket: string, prefix: string): Promise<StoredObject[]>;
  head(bucket: string, key: string): Promise<StoredObject>;
  stream(bucket: string, key: string): Promise<ByteSource>;
  /** Random access by byte ranges (Parquet reads its footer first, then column chunks). */
  ranges(bucket: string, key: string, size: number): AsyncBuffer;
  getText(bucket: string, key: string): Promise<string>;
  getBytes(bucket: string, key: string): Promise<Uint8Array>;
  put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<void>;
}

/** What the predict function needs: model archives in, capture batches out. */
export type ArtifactObjects = Pick<ObjectStore, 'getBytes' | 'put'>;

export interface S3Location {
  readonly bucket: string;
  readonly key: string;
}

/** `s3://bucket/key`; a key ending in "/" (or empty) names a prefix. */
export function parseS3Uri(uri: string, field = 'uri'): S3Location {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(uri);
  if (!match) throw new ValidationError(`${field} must be an S3 URI (s3://<bucket>/<key or prefix/>), got "${uri}"`, { [field]: uri });
  return { bucket: match[1]!, key: match[2]! };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
