/**
 * The object-storage operations the functions need, so domain code takes storage as an
 * argument (an in-memory fake in unit tests, S3 in production: s3-object-store.ts).
 */
export interface ObjectStore {
  getObject(bucket: string, key: string): Promise<Uint8Array>;
  putObject(bucket: string, key: string, body: string, contentType: string): Promise<void>;
}
