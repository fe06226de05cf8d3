/**
 * The body of POST /invocations: `{ "instances": [row, ...] }` and nothing else, read with the
 * same rules and messages as the predict Lambda (lambdas/predict/predict.ts), so a client gets
 * the same 400 from either serving mode. test/containers/onnx-serving.test.ts compares the two.
 */
import type { Readable } from 'node:stream';
import { ValidationError } from '../../lambdas/shared/errors';
import { PayloadTooLargeError, UnsupportedMediaTypeError } from './errors';

/**
 * InvokeEndpoint's `Body` holds at most 6,291,456 bytes (the BodyBlob length limit, 6 MB).
 * SageMaker refuses a larger request before it reaches the container; the container applies the
 * same limit to whoever else calls it (a local run, a test), so memory per request stays bounded.
 */
export const MAX_INVOCATION_BODY_BYTES = 6_291_456;

/** The one content type /invocations takes; data capture records bodies of this type as JSON. */
export const JSON_CONTENT_TYPE = 'application/json';

/** Refuses anything but `application/json` (parameters such as `charset=utf-8` allowed). */
export function checkContentType(header: string | undefined): void {
  const mediaType = header?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== JSON_CONTENT_TYPE) {
    throw new UnsupportedMediaTypeError(
      `/invocations takes Content-Type ${JSON_CONTENT_TYPE}, got ${header ? JSON.stringify(header) : 'none'}`,
      header ? { contentType: header } : {},
    );
  }
}

/** Refuses a declared body over the limit before reading a byte of it (Node reads and drops it after the answer). */
export function checkDeclaredLength(header: string | undefined, limit = MAX_INVOCATION_BODY_BYTES): void {
  if (header !== undefined && Number(header) > limit) throw tooLarge(`${Number(header)} bytes`, limit);
}

/**
 * Reads the body, refusing it as soon as it passes the limit (a chunked body declares no length).
 * The rest of a refused body is still read, and dropped: a client that is still sending gets the
 * 413 instead of a broken pipe, and the connection stays usable (the server's request timeout
 * bounds how long a client can keep sending).
 */
export function readBody(body: Readable, limit = MAX_INVOCATION_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let refused = false;
    body.on('data', (chunk: Buffer) => {
      if (refused) return;
      bytes += chunk.length;
      if (bytes > limit) {
        refused = true;
        chunks.length = 0;
        reject(tooLarge(`over ${limit} bytes`, limit));
        return;
      }
      chunks.push(chunk);
    });
    body.on('end', () => {
      if (!refused) resolve(Buffer.concat(chunks, bytes));
    });
    body.on('error', reject);
  });
}

/** The rows of a request body, or the Lambda's ValidationError for a body that is not `{ instances: [...] }`. */
export function instancesOf(body: Buffer): unknown[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new ValidationError(`the request body is not JSON: ${(error as Error).message}`);
  }
  const instances = (parsed as { instances?: unknown } | null)?.instances;
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray(instances)) {
    throw new ValidationError('the request must be { "instances": [row, ...] }, each row an object keyed by feature name or an array');
  }
  const extra = Object.keys(parsed).filter((key) => key !== 'instances');
  if (extra.length > 0) throw new ValidationError(`the request has unknown fields: ${extra.join(', ')}; only "instances" is accepted`);
  return instances;
}

function tooLarge(size: string, limit: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`the request body is ${size}; InvokeEndpoint accepts at most ${limit} bytes`, { limitBytes: limit });
}
