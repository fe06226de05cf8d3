/**
 * A local S3 (s3rver, in-process, files under a temporary directory) on a free loopback port,
 * for the handler tests and the offline runtime. Clients must use path-style addressing and
 * compute checksums only when required: s3rver stores an aws-chunked (checksummed) upload
 * with its framing, so a default streamed PutObject would be saved corrupt.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort, LOCAL_AWS } from './dynamodb-local';

export interface RunningS3Local {
  readonly endpoint: string;
  /** A new client for this emulator, configured as s3rver needs. */
  client(): S3Client;
  stop(): Promise<void>;
}

export async function startS3Local(options: { buckets: readonly string[] }): Promise<RunningS3Local> {
  const directory = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-s3-'));
  const port = await freePort();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    client: () => new S3Client(localS3ClientConfig(endpoint)),
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}

/** s3rver accepts only its own fixed credentials. */
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export function localS3ClientConfig(endpoint: string) {
  return {
    region: LOCAL_AWS.region,
    credentials: S3RVER_CREDENTIALS,
    endpoint,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  } as const;
}
