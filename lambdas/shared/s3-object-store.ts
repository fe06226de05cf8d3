/**
 * The ObjectStore on S3 (@aws-sdk/client-s3). A missing object becomes NotFoundError;
 * throttling and 5xx stay SDK errors so Step Functions retries them.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { NotFoundError } from './errors';
import { type ObjectStore, type StoredObject, s3Uri } from './object-store';
import type { ByteSource } from './readers/bytes';
import type { AsyncBuffer } from './readers/parquet';

function isMissing(error: unknown): boolean {
  const name = (error as { name?: string }).name;
  return name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchBucket';
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  async list(bucket: string, prefix: string): Promise<StoredObject[]> {
    const objects: StoredObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const item of page.Contents ?? []) {
          if (item.Key && !item.Key.endsWith('/')) objects.push({ key: item.Key, size: item.Size ?? 0, etag: item.ETag ?? '' });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`bucket "${bucket}" does not exist`, { bucket });
      throw error;
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async head(bucket: string, key: string): Promise<StoredObject> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { key, size: head.ContentLength ?? 0, etag: head.ETag ?? '' };
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`object ${s3Uri(bucket, key)} does not exist`, { bucket, key });
      throw error;
    }
  }

  async stream(bucket: string, key: string): Promise<ByteSource> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return response.Body as unknown as ByteSource;
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`object ${s3Uri(bucket, key)} does not exist`, { bucket, key });
      throw error;
    }
  }

  ranges(bucket: string, key: string, size: number): AsyncBuffer {
    return {
      byteLength: size,
      slice: async (start: number, end = size) => {
        if (end <= start) return new ArrayBuffer(0);
        const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
        const bytes = await response.Body!.transformToByteArray();
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    };
  }

  async getText(bucket: string, key: string): Promise<string> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await response.Body!.transformToString('utf-8');
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`object ${s3Uri(bucket, key)} does not exist`, { bucket, key });
      throw error;
    }
  }

  async getBytes(bucket: string, key: string): Promise<Uint8Array> {
    try {
      const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await response.Body!.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`object ${s3Uri(bucket, key)} does not exist`, { bucket, key });
      throw error;
    }
  }

  async put(bucket: string, key: string, body: string | Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }
}
