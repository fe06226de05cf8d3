/**
 * The HTTP layer on its own, in-process, over a model that faults: the caller gets the generic
 * 500 body naming the request id, never the error or its stack, which go to the log line.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonLogger } from '../../containers/onnx-serving/log';
import { createRequestHandler } from '../../containers/onnx-serving/routes';
import type { ServedModel } from '../../containers/onnx-serving/served-model';

describe('createRequestHandler', () => {
  const lines: Array<Record<string, any>> = [];
  const faulty = {
    status: 'ready',
    predict: async () => {
      throw new TypeError('Cannot read properties of undefined (reading "data") at /opt/server/server.mjs:1:2345');
    },
  } as unknown as ServedModel;
  let server: Server;
  let url: string;

  beforeAll(async () => {
    server = createServer(
      createRequestHandler(
        faulty,
        jsonLogger((line) => lines.push(JSON.parse(line))),
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('answers a fault with 500 and a generic body, and logs the error with its stack', async () => {
    const response = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ instances: [{ tenure_months: 1 }] }),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    const [line] = lines;
    expect(JSON.parse(text)).toEqual({
      error: { code: 'InternalError', message: 'prediction failed', details: { requestId: line!.requestId } },
    });
    expect(text).not.toContain('server.mjs');
    expect(line).toMatchObject({
      level: 'ERROR',
      message: 'request',
      status: 500,
      errorCode: 'InternalError',
      fault: { name: 'TypeError', stack: expect.stringContaining('TypeError: Cannot read properties') },
    });
  });
});
