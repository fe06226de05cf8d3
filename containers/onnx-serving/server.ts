/**
 * The ONNX serving container's entry point: `node server.mjs serve`, as SageMaker starts an
 * inference image (`docker run <image> serve`). It reads its settings (a bad one ends the process
 * with the reason), listens at once so /ping can answer while the model loads, loads the model,
 * and on SIGTERM stops taking connections, lets the requests in flight finish, and exits.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { availableParallelism } from 'node:os';
import { jsonLogger, type Logger } from './log';
import { createRequestHandler } from './routes';
import { ServedModel } from './served-model';
import { SettingsError, settingsFromEnvironment } from './settings';

const USAGE = 'usage: server.mjs serve (SageMaker starts an inference container with the argument "serve")';
/** SageMaker sends SIGKILL 30 s after SIGTERM; requests still open after this long are cut before that. */
const SHUTDOWN_GRACE_MS = 25_000;
/**
 * Idle connections stay open longer than the 60 s SageMaker allows an invocation (Node's default
 * is 5 s): a front end reusing a pooled connection the server has just closed gets a reset, not
 * an answer, so the server should not be the side that closes first.
 */
const KEEP_ALIVE_TIMEOUT_MS = 65_000;
/** SageMaker gives an invocation 60 s; a request still arriving after that is cut (Node's default waits 300 s). */
const REQUEST_TIMEOUT_MS = 60_000;

async function main(log: Logger): Promise<void> {
  const [command] = process.argv.slice(2);
  if (command !== 'serve') {
    log.error(USAGE, { arguments: process.argv.slice(2) });
    process.exitCode = 2;
    return;
  }
  let model: ServedModel;
  let port: number;
  try {
    const settings = settingsFromEnvironment(process.env);
    port = settings.port;
    model = ServedModel.open(settings, log);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    log.error('cannot start', { error: error.message });
    process.exitCode = 1;
    return;
  }
  const server = createServer(createRequestHandler(model, log));
  const requests = trackOpenRequests(server);
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  await listen(server, port);
  log.info('listening', { port: (server.address() as AddressInfo).port, status: model.status });
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop(server, requests, model, log, signal));
  await model.load(availableParallelism());
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Stops accepting connections, waits for the requests in flight to be answered (at most
 * SHUTDOWN_GRACE_MS), then closes every connection, idle keep-alive ones included, and releases
 * the model; with nothing left open the process ends with code 0.
 */
function stop(server: Server, requests: OpenRequests, model: ServedModel, log: Logger, signal: string): void {
  log.info('stopping', { signal, openRequests: requests.count });
  server.close();
  let finished = false;
  const finish = () => {
    if (finished) return;
    finished = true;
    server.closeAllConnections();
    model.close().finally(() => log.info('stopped'));
  };
  setTimeout(finish, SHUTDOWN_GRACE_MS).unref();
  requests.allAnswered().then(finish);
}

interface OpenRequests {
  readonly count: number;
  /** Resolves once no request is open (from its headers until its response is closed). */
  allAnswered(): Promise<void>;
}

function trackOpenRequests(server: Server): OpenRequests {
  const open = new Set<ServerResponse>();
  const waiting: Array<() => void> = [];
  server.on('request', (_request, response: ServerResponse) => {
    open.add(response);
    response.once('close', () => {
      open.delete(response);
      if (open.size === 0) for (const resolve of waiting.splice(0)) resolve();
    });
  });
  return {
    get count() {
      return open.size;
    },
    allAnswered: () => (open.size === 0 ? Promise.resolve() : new Promise((resolve) => waiting.push(resolve))),
  };
}

const log = jsonLogger();
main(log).catch((error: unknown) => {
  log.error('the server failed', { error: (error as Error).message, stack: (error as Error).stack });
  process.exitCode = 1;
});
