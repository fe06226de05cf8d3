/**
 * ObjectStore on Amazon S3 (and on s3rver in tests and `npm start`, hence the endpoint,
 * path-style and checksum options).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import type { ObjectStore } from './object-store';

/** Client options for an S3-compatible endpoint such as s3rver: path-style URLs, checksums only when required. */
export function localS3Config(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  };
}

export class S3ObjectStore implements ObjectStore {
  constructor(private readonly client: S3Client) {}

  async getObject(bucket: string, key: string): Promise<Uint8Array> {
    const response = await this.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    if (!response.Body) throw new Error(`s3://${bucket}/${key} has no body`);
    return response.Body.transformToByteArray();
  }

  async putObject(bucket: string, key: string, body: string, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }));
  }
}
