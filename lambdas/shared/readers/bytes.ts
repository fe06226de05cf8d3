/**
 * Byte-stream plumbing shared by the text readers: transparent gzip (detected by its magic
 * bytes, not the key's suffix) and a reusable window that holds the unread tail of the stream,
 * so a reader only ever keeps about one batch of bytes in memory.
 */
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { DatasetFormatError } from '../errors';

/** A dataset object's bytes, as S3 GetObject bodies and file streams provide them. */
export type ByteSource = AsyncIterable<Uint8Array>;

const GZIP_MAGIC = [0x1f, 0x8b] as const;

/** Yields the source's bytes, gunzipped on the fly when it starts with the gzip magic bytes. */
export async function* decompressed(source: ByteSource): AsyncGenerator<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (first.done) return;
  const head = first.value;
  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  if (head.length < 2 || head[0] !== GZIP_MAGIC[0] || head[1] !== GZIP_MAGIC[1]) {
    yield head;
    yield* rest;
    return;
  }
  async function* compressed(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }
  const input = Readable.from(compressed(), { objectMode: false });
  const gunzip = createGunzip();
  input.on('error', (error) => gunzip.destroy(error));
  input.pipe(gunzip);
  try {
    for await (const chunk of gunzip) yield chunk as Buffer;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && code.startsWith('Z_')) {
      throw new DatasetFormatError(`the gzip stream is corrupt or truncated: ${(error as Error).message}`, { zlibCode: code });
    }
    throw error;
  } finally {
    input.destroy();
  }
}

/** The unread bytes of a stream: append chunks at the end, drop consumed bytes from the front. */
export class ByteWindow {
  private buffer: Buffer;
  private used = 0;

  constructor(initialCapacity = 1 << 20) {
    this.buffer = Buffer.allocUnsafe(initialCapacity);
  }

  get length(): number {
    return this.used;
  }

  /** The unread bytes; valid until the next append or consume. */
  get bytes(): Buffer {
    return this.buffer.subarray(0, this.used);
  }

  append(chunk: Uint8Array): void {
    if (this.used + chunk.length > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.used + chunk.length));
      this.buffer.copy(grown, 0, 0, this.used);
      this.buffer = grown;
    }
    this.buffer.set(chunk, this.used);
    this.used += chunk.length;
  }

  consume(count: number): void {
    this.buffer.copy(this.buffer, 0, count, this.used);
    this.used -= count;
  }
}
