/**
 * The CLI's HTTP client for the platform API: JSON in and out, SigV4-signed (service
 * `execute-api`, the SDK's default credential chain) for AWS URLs, a bearer token when a
 * Cognito authorizer is configured, nothing for the local server on 127.0.0.1.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';

export interface ApiClientOptions {
  /** The stage URL (the stack's ApiUrl output, or the local server's URL). */
  readonly baseUrl: string;
  /** Region for signing; read from an execute-api host name when omitted. */
  readonly region?: string;
  /** A Cognito ID token: sent as Authorization instead of a SigV4 signature. */
  readonly token?: string;
  readonly fetch?: typeof fetch;
}

/** The API answered with an error status; `body` is its `{ error: { code, message, details } }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** What the CLI adds for the reader (the models there are, when a model name was unknown). */
  hint?: string;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown>,
  ) {
    super(message);
  }
}

const EXECUTE_API_HOST = /^[a-z0-9]+\.execute-api\.([a-z0-9-]+)\.amazonaws\.com(\.cn)?$/;
/** Hosts of the offline runtime's API server: requests to them are not signed. */
export const LOCAL_HOSTS: ReadonlySet<string> = new Set(['127.0.0.1', 'localhost', '[::1]']);

type SourceData = string | ArrayBuffer | ArrayBufferView;

/** SHA-256 and HMAC-SHA-256 over node:crypto, in the shape SignatureV4 expects. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: SourceData) {
    this.hash = this.create();
  }
  update(data: SourceData): void {
    this.hash.update(toBuffer(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.create();
  }
  private create(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuffer(this.secret));
  }
}

function toBuffer(data: SourceData): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

export class ApiClient {
  private readonly base: URL;
  private readonly fetch: typeof fetch;
  private readonly signer?: SignatureV4;

  constructor(private readonly options: ApiClientOptions) {
    this.base = new URL(options.baseUrl.endsWith('/') ? options.baseUrl : `${options.baseUrl}/`);
    this.fetch = options.fetch ?? fetch;
    const local = LOCAL_HOSTS.has(this.base.hostname);
    if (!local && this.base.protocol !== 'https:') throw new Error(`the API URL must use https unless it is local, got ${options.baseUrl}`);
    if (!local && !options.token) {
      const region = options.region ?? EXECUTE_API_HOST.exec(this.base.hostname)?.[1];
      if (!region) throw new Error(`cannot tell the region of ${this.base.hostname}; pass --region`);
      this.signer = new SignatureV4({ service: 'execute-api', region, credentials: defaultProvider(), sha256: NodeSha256 });
    }
  }

  get baseUrl(): string {
    return this.base.toString();
  }

  /** Whether the API is the offline runtime's server on this machine. */
  get isLocal(): boolean {
    return LOCAL_HOSTS.has(this.base.hostname);
  }

  async get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    return (await this.request<T>('GET', path, undefined, query)).value;
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return (await this.request<T>('POST', path, JSON.stringify(body))).value;
  }

  /** POST of a body already serialised; the answer with its text (whose size the caller may need). */
  async postText<T>(path: string, bodyText: string): Promise<{ value: T; text: string }> {
    return this.request<T>('POST', path, bodyText);
  }

  /** PUT of raw bytes (the local server's dataset upload). */
  async put<T>(path: string, body: Uint8Array, contentType: string): Promise<T> {
    return (await this.request<T>('PUT', path, body, {}, contentType)).value;
  }

  private async request<T>(
    method: string,
    path: string,
    body: string | Uint8Array | undefined,
    query: Record<string, string | undefined> = {},
    contentType = 'application/json',
  ): Promise<{ value: T; text: string }> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    const headers: Record<string, string> = { accept: 'application/json', host: url.host };
    if (body !== undefined) headers['content-type'] = contentType;
    if (this.options.token) headers.authorization = this.options.token;
    const signed = this.signer ? await this.sign(url, method, headers, body) : headers;
    const { host: _host, ...sendHeaders } = signed;
    let response: Response;
    let responseText: string;
    try {
      response = await this.fetch(url, { method, headers: sendHeaders, body });
      responseText = await response.text();
    } catch (error) {
      throw new ConnectionError(url, error);
    }
    let parsed: unknown;
    try {
      parsed = responseText === '' ? undefined : JSON.parse(responseText);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      // API Gateway's own answers (413, 504, a missing gateway response) carry { message } instead.
      const gatewayMessage = (parsed as { message?: unknown } | undefined)?.message;
      throw new ApiError(
        response.status,
        error?.code ?? `HTTP${response.status}`,
        error?.message ?? (typeof gatewayMessage === 'string' ? gatewayMessage : responseText || response.statusText),
        error?.details ?? {},
      );
    }
    if (parsed === undefined && responseText !== '') throw new Error(`the API answered ${response.status} with a body that is not JSON`);
    return { value: parsed as T, text: responseText };
  }

  private async sign(url: URL, method: string, headers: Record<string, string>, body: string | Uint8Array | undefined) {
    try {
      const request = await this.signer!.sign({
        method,
        protocol: url.protocol,
        hostname: url.hostname,
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        headers,
        body,
      });
      return request.headers;
    } catch (error) {
      throw new Error(`cannot sign the request to ${url.origin} with AWS credentials: ${(error as Error).message}`);
    }
  }
}

/** The API could not be reached at all: names the URL and the network's reason, never just "fetch failed". */
export class ConnectionError extends Error {
  override readonly name = 'ConnectionError';
  constructor(
    readonly url: URL,
    error: unknown,
  ) {
    super(`cannot reach the API at ${url.origin}${url.pathname}: ${networkReason(error, url)}${hintFor(url, error)}`);
  }
}

/** What the network said, from fetch's `TypeError('fetch failed')` and its cause (an AggregateError for several addresses). */
function networkReason(error: unknown, url?: URL): string {
  const cause = (error as { cause?: unknown }).cause ?? error;
  const first = (cause as { errors?: unknown[] }).errors?.[0] ?? cause;
  const code = (first as { code?: unknown }).code;
  const message = (first as Error).message ?? String(first);
  // fetch refuses a list of well-known ports (the Fetch standard's "bad ports") without connecting.
  if (message === 'bad port') return `port ${url?.port} is one fetch refuses to connect to (a blocked port); use another`;
  const known = typeof code === 'string' ? NETWORK_ERRORS[code] : undefined;
  if (known) return `${known} (${code})`;
  return typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message;
}

const NETWORK_ERRORS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused, nothing listens there',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'the host name does not resolve',
  EAI_AGAIN: 'the host name could not be resolved (DNS lookup timed out)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'the connection timed out',
  UND_ERR_SOCKET: 'the connection closed before the answer arrived',
  CERT_HAS_EXPIRED: "the server's TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "the server's TLS certificate is self-signed",
};

function hintFor(url: URL, error: unknown): string {
  const text = networkReason(error);
  if (LOCAL_HOSTS.has(url.hostname) && text.includes('ECONNREFUSED')) {
    return '; is the offline runtime still running (`npm start -- --keep-running` prints its URL)?';
  }
  if (text.includes('ENOTFOUND')) return '; check --api, --stack-outputs or MLOPS_API_URL';
  return '';
}

/** The API URL from `cdk deploy --outputs-file` JSON: the first stack with an ApiUrl output. */
export function apiUrlFromStackOutputs(outputs: unknown, stackName?: string): string {
  const stacks = Object.entries((outputs ?? {}) as Record<string, Record<string, unknown>>);
  const candidates = stackName ? stacks.filter(([name]) => name === stackName) : stacks;
  const found = candidates.find(([, values]) => typeof values?.ApiUrl === 'string');
  if (!found) {
    throw new Error(
      `no ${stackName ? `stack "${stackName}" with an ` : 'stack with an '}ApiUrl output in the outputs file (stacks: ${stacks.map(([name]) => name).join(', ') || 'none'})`,
    );
  }
  return found[1].ApiUrl as string;
}
