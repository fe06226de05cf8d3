/**
 * Splits a byte stream into text lines in linear time and bounded memory: only the bytes of the
 * line being read are kept (as the chunks they arrived in, joined once when the line ends), so a
 * 40 MB line costs one copy of 40 MB, and a stream of short lines costs one chunk at a time.
 * Lines split on LF bytes; a CR before it is kept (JSON.parse reads it as whitespace). LF never
 * occurs inside a multi-byte UTF-8 sequence, so each line decodes on its own.
 */
import { type ByteSource, decompressed } from './bytes';

const LF = 0x0a;

export class LineSplitter {
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;
  private copied = 0;

  /** Bytes of the unfinished line held between chunks. */
  get bufferedBytes(): number {
    return this.pendingBytes;
  }

  /** Bytes copied to keep and join lines that spanned chunks: at most twice the input's size (linear time). */
  get copiedBytes(): number {
    return this.copied;
  }

  /** The lines that end in this chunk; the unfinished rest is kept for the next one. */
  *push(chunk: Uint8Array): Generator<string> {
    let start = 0;
    for (let newline = chunk.indexOf(LF); newline >= 0; newline = chunk.indexOf(LF, start)) {
      yield this.take(chunk.subarray(start, newline));
      start = newline + 1;
    }
    if (start < chunk.length) {
      // The chunk may be a view of a buffer its producer reuses: keep a copy of the unfinished line's part.
      this.pending.push(Uint8Array.prototype.slice.call(chunk, start));
      this.pendingBytes += chunk.length - start;
      this.copied += chunk.length - start;
    }
  }

  /** The last line when the stream does not end with a newline. */
  *end(): Generator<string> {
    if (this.pendingBytes > 0) yield this.take(new Uint8Array(0));
  }

  private take(tail: Uint8Array): string {
    if (this.pending.length === 0) return Buffer.from(tail.buffer, tail.byteOffset, tail.length).toString('utf8');
    this.pending.push(tail);
    const joined = Buffer.concat(this.pending, this.pendingBytes + tail.length);
    this.copied += joined.length;
    this.pending = [];
    this.pendingBytes = 0;
    return joined.toString('utf8');
  }
}

/** The lines of a (possibly gzipped) stream, each yielded as soon as its newline arrives. */
export async function* linesOf(source: ByteSource): AsyncGenerator<string> {
  const splitter = new LineSplitter();
  for await (const chunk of decompressed(source)) yield* splitter.push(chunk);
  yield* splitter.end();
}
