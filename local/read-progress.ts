/**
 * Progress of a long read offline: an ObjectStore that reports, every few seconds while an object
 * is streamed (a large dataset under validation), how far the reader is and how fast it goes.
 * validate-data reads through it unchanged; small objects, read within the interval, report nothing.
 */
import type { ObjectStore } from '../lambdas/shared/object-store';
import type { ByteSource } from '../lambdas/shared/readers/bytes';

export interface ReadProgress {
  readonly key: string;
  readonly bytesRead: number;
  readonly totalBytes: number;
  readonly bytesPerSecond: number;
}

export interface ReadProgressOptions {
  /** @default 5000 */
  readonly intervalMs?: number;
  /** @default performance.now */
  readonly now?: () => number;
}

const MB = 1024 * 1024;

/** `reading churn/big.csv: 45.0 of 200.0 MB (22%), 9.1 MB/s`. */
export function readProgressLine(progress: ReadProgress): string {
  const share = progress.totalBytes > 0 ? ` (${Math.floor((progress.bytesRead / progress.totalBytes) * 100)}%)` : '';
  return `reading ${progress.key}: ${(progress.bytesRead / MB).toFixed(1)} of ${(progress.totalBytes / MB).toFixed(1)} MB${share}, ${(progress.bytesPerSecond / MB).toFixed(1)} MB/s`;
}

export function withReadProgress(
  store: ObjectStore,
  onProgress: (progress: ReadProgress) => void,
  options: ReadProgressOptions = {},
): ObjectStore {
  const intervalMs = options.intervalMs ?? 5000;
  const now = options.now ?? (() => performance.now());
  return {
    list: (bucket, prefix) => store.list(bucket, prefix),
    head: (bucket, key) => store.head(bucket, key),
    ranges: (bucket, key, size) => store.ranges(bucket, key, size),
    getText: (bucket, key) => store.getText(bucket, key),
    getBytes: (bucket, key) => store.getBytes(bucket, key),
    put: (bucket, key, body, contentType) => store.put(bucket, key, body, contentType),
    async stream(bucket, key): Promise<ByteSource> {
      const [source, { size }] = await Promise.all([store.stream(bucket, key), store.head(bucket, key)]);
      return (async function* counted() {
        const started = now();
        let reported = started;
        let bytesRead = 0;
        for await (const chunk of source) {
          bytesRead += chunk.length;
          const at = now();
          if (at - reported >= intervalMs) {
            reported = at;
            onProgress({ key, bytesRead, totalBytes: size, bytesPerSecond: (bytesRead / (at - started)) * 1000 });
          }
          yield chunk;
        }
      })();
    },
  };
}
