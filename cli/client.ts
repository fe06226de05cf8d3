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
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

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

  async get<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    return this.request<T>('GET', path, undefined, query);
  }

  async post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  private async request<T>(method: string, path: string, body: unknown, query: Record<string, string | undefined> = {}): Promise<T> {
    const url = new URL(path.replace(/^\//, ''), this.base);
    for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
    const text = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { accept: 'application/json', host: url.host };
    if (text !== undefined) headers['content-type'] = 'application/json';
    if (this.options.token) headers.authorization = this.options.token;
    const signed = this.signer
      ? (
          await this.signer.sign({
            method,
            protocol: url.protocol,
            hostname: url.hostname,
            path: url.pathname,
            query: Object.fromEntries(url.searchParams),
            headers,
            body: text,
          })
        ).headers
      : headers;
    const { host: _host, ...sendHeaders } = signed;
    const response = await this.fetch(url, { method, headers: sendHeaders, body: text });
    const responseText = await response.text();
    let parsed: unknown;
    try {
      parsed = responseText === '' ? undefined : JSON.parse(responseText);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = (parsed as { error?: { code?: string; message?: string; details?: Record<string, unknown> } } | undefined)?.error;
      throw new ApiError(
        response.status,
        error?.code ?? `HTTP${response.status}`,
        error?.message ?? (responseText || response.statusText),
        error?.details ?? {},
      );
    }
    if (parsed === undefined && responseText !== '') throw new Error(`the API answered ${response.status} with a body that is not JSON`);
    return parsed as T;
  }
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
