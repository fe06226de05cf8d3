import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter, linesOf } from '../../../../lambdas/shared/readers/lines';

function chunked(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const point of [...points, bytes.length]) {
    if (point > from) chunks.push(bytes.subarray(from, point));
    from = Math.max(from, point);
  }
  return chunks;
}

async function* source(chunks: Buffer[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

describe('linesOf', () => {
  it('yields the same lines as splitting the whole text on LF, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('\n', '\r\n', 'é€😀')), { maxLength: 40 }),
        fc.array(fc.nat(400), { maxLength: 12 }),
        async (parts, cuts) => {
          const text = parts.join('');
          const expected = text.split('\n');
          if (expected[expected.length - 1] === '') expected.pop();
          const lines: string[] = [];
          for await (const line of linesOf(source(chunked(Buffer.from(text, 'utf8'), cuts)))) lines.push(line);
          expect(lines).toEqual(expected);
        },
      ),
    );
  });

  it('yields each line as soon as its newline arrives, before the rest of the stream is read', async () => {
    let pulled = 0;
    async function* counted(): AsyncGenerator<Uint8Array> {
      for (let index = 0; index < 100; index++) {
        pulled++;
        yield Buffer.from(`{"row":${index}}\n`);
      }
    }
    const seenAt: number[] = [];
    for await (const _line of linesOf(counted())) seenAt.push(pulled);
    expect(seenAt).toEqual(Array.from({ length: 100 }, (_, index) => index + 1));
  });
});

describe('LineSplitter', () => {
  it('joins a line spread over many chunks with a linear number of copied bytes and keeps nothing once it ends', () => {
    const size = 4 << 20;
    const line = Buffer.alloc(size, 0x61);
    const splitter = new LineSplitter();
    let largestBuffer = 0;
    for (let offset = 0; offset < size; offset += 4096) {
      expect([...splitter.push(line.subarray(offset, offset + 4096))]).toEqual([]);
      largestBuffer = Math.max(largestBuffer, splitter.bufferedBytes);
    }
    const [joined, ...rest] = [...splitter.push(Buffer.from('\nnext'))];
    expect(joined).toHaveLength(size);
    expect(rest).toEqual([]);
    expect(largestBuffer).toBe(size);
    expect(splitter.copiedBytes).toBeLessThanOrEqual(2 * (size + 5));
    expect(splitter.bufferedBytes).toBe(4);
    expect([...splitter.end()]).toEqual(['next']);
    expect(splitter.bufferedBytes).toBe(0);
  });

  it('holds no bytes between chunks of short complete lines', () => {
    const splitter = new LineSplitter();
    for (let index = 0; index < 1000; index++) {
      expect([...splitter.push(Buffer.from(`a,${index}\nb,${index}\n`))]).toEqual([`a,${index}`, `b,${index}`]);
      expect(splitter.bufferedBytes).toBe(0);
    }
    expect(splitter.copiedBytes).toBe(0);
  });
});
