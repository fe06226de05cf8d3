/**
 * A local S3 (s3rver, in-process, files under a temporary directory or a workspace's) on a free loopback port,
 * for the handler tests and the offline runtime. Clients must use path-style addressing and
 * compute checksums only when required: s3rver stores an aws-chunked (checksummed) upload
 * with its framing, so a default streamed PutObject would be saved corrupt.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freePort, LOCAL_AWS } from './dynamodb-local';

export interface RunningS3Local {
  readonly endpoint: string;
  /** A new client for this emulator, configured as s3rver needs. */
  client(): S3Client;
  /** Calls `listener` for every object created (s3rver's S3 event records, keys decoded). */
  onObjectCreated(listener: (bucket: string, key: string) => void): void;
  stop(): Promise<void>;
}

/** The part of an S3 event record s3rver emits that the runtime reads (notification keys are URL-encoded). */
interface S3EventRecord {
  readonly eventName: string;
  readonly s3: { readonly bucket: { readonly name: string }; readonly object: { readonly key: string } };
}

export interface S3LocalOptions {
  /** Created when missing; their objects are kept. */
  readonly buckets: readonly string[];
  /**
   * Where s3rver keeps the buckets (a workspace's), kept after stop; a temporary folder, removed
   * on stop, when left out.
   */
  readonly directory?: string;
}

export async function startS3Local(options: S3LocalOptions): Promise<RunningS3Local> {
  const temporary = options.directory === undefined;
  const directory = options.directory ?? mkdtempSync(path.join(tmpdir(), 'cdk-mlops-s3-'));
  mkdirSync(directory, { recursive: true });
  const port = await freePort();
  const server = new S3rver({
    address: '127.0.0.1',
    port,
    silent: true,
    directory,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [] })),
  });
  try {
    await server.run();
  } catch (error) {
    if (temporary) rmSync(directory, { recursive: true, force: true });
    throw error;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const listeners: Array<(bucket: string, key: string) => void> = [];
  (server as unknown as NodeJS.EventEmitter).on('event', (event: { Records?: S3EventRecord[] }) => {
    for (const record of event.Records ?? []) {
      if (!record.eventName.startsWith('ObjectCreated')) continue;
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
      for (const listener of listeners) listener(record.s3.bucket.name, key);
    }
  });
  return {
    endpoint,
    client: () => new S3Client(localS3ClientConfig(endpoint)),
    onObjectCreated: (listener) => listeners.push(listener),
    stop: async () => {
      await server.close();
      if (temporary) rmSync(directory, { recursive: true, force: true });
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
