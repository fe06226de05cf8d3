/**
 * s3rver, a file-backed S3 emulator, on a free loopback port: the S3 of the tests and the
 * offline runtime. Its clients need path-style addressing (localS3Config).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import S3rver from 's3rver';

export interface RunningS3Local {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/** Starts s3rver with the given buckets in a fresh temporary directory, removed on stop. */
export async function startS3Local(buckets: readonly string[]): Promise<RunningS3Local> {
  const directory = mkdtempSync(path.join(tmpdir(), 's3-local-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: buckets.map((name) => ({ name })),
  });
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: async () => {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
