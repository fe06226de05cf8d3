/**
 * Inference capture for drift detection: a sampled share of requests is kept, one JSON Lines
 * record per row (inputs and prediction), and written to the capture bucket in batches so a
 * busy function makes one S3 request per few hundred rows, not one per request. Capture is
 * best effort by design: a failed or slow write is counted and dropped, never surfaced to
 * the caller, and records still buffered when a container is retired are lost (it is a sample).
 */
import { randomUUID } from 'node:crypto';

/** One line of a capture object: the format drift detection reads. */
export interface CaptureRecord {
  readonly capturedAt: string;
  readonly requestId: string;
  readonly modelName: string;
  readonly modelVersion: number;
  readonly row: number;
  readonly input: unknown;
  readonly output: unknown;
}

export interface CaptureOptions {
  readonly modelName: string;
  /** Share of requests captured, 0–100. */
  readonly samplePercent: number;
  /**
   * The fields of a request row that are kept (the model's features and any opted-in columns);
   * every other field a client sent (an identifier, a sensitive attribute) is left out. Unset: the row as sent.
   */
  readonly keepFields?: readonly string[];
  /** Writes one batch; rejects on failure. */
  readonly write: (key: string, jsonLines: string) => Promise<void>;
  /** A batch is written once it holds this many records... @default 1000 */
  readonly maxRecords?: number;
  /** ...or once its oldest record is this old. @default 60_000 */
  readonly maxAgeMs?: number;
  /** A write taking longer than this is abandoned (and counted as failed). @default 2_000 */
  readonly writeTimeoutMs?: number;
  readonly now?: () => number;
  readonly random?: () => number;
}

export interface FlushResult {
  readonly written: number;
  readonly dropped: number;
  readonly error?: Error;
}

/** One sampled request, held by reference until its batch is written. */
interface PendingRequest {
  readonly at: number;
  readonly requestId: string;
  readonly modelVersion: number;
  readonly inputs: readonly unknown[];
  readonly outputs: readonly unknown[];
}

export class CaptureBuffer {
  /**
   * Requests are kept as references and serialised when their batch is flushed: a sampled
   * request pays for a push, and the JSON is built by the request that already pays for the
   * S3 write. A crash still loses exactly the buffered batch, as a buffer of strings would.
   * The handler never mutates a request's rows or predictions after scoring, so the
   * references still hold what was answered.
   */
  private pending: PendingRequest[] = [];
  private records = 0;
  private oldestAt = 0;
  private readonly maxRecords: number;
  private readonly maxAgeMs: number;
  private readonly writeTimeoutMs: number;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: CaptureOptions) {
    if (options.samplePercent < 0 || options.samplePercent > 100) {
      throw new Error(`samplePercent must be between 0 and 100, got ${options.samplePercent}`);
    }
    this.maxRecords = options.maxRecords ?? 1000;
    this.maxAgeMs = options.maxAgeMs ?? 60_000;
    this.writeTimeoutMs = options.writeTimeoutMs ?? 2_000;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** Records (rows) buffered. */
  get size(): number {
    return this.records;
  }

  /** Decides once per request, so a captured request keeps all its rows together. */
  sample(): boolean {
    return this.options.samplePercent > 0 && this.random() * 100 < this.options.samplePercent;
  }

  add(requestId: string, modelVersion: number, inputs: readonly unknown[], outputs: readonly unknown[]): void {
    const at = this.now();
    if (this.records === 0) this.oldestAt = at;
    this.pending.push({ at, requestId, modelVersion, inputs: this.kept(inputs), outputs });
    this.records += inputs.length;
  }

  private kept(inputs: readonly unknown[]): readonly unknown[] {
    const fields = this.options.keepFields;
    if (!fields) return inputs;
    return inputs.map((row) => {
      if (row === null || typeof row !== 'object' || Array.isArray(row)) return row;
      const kept: Record<string, unknown> = {};
      for (const field of fields) if (Object.hasOwn(row, field)) kept[field] = (row as Record<string, unknown>)[field];
      return kept;
    });
  }

  /** Whether the buffer should be written now. */
  due(): boolean {
    return this.records >= this.maxRecords || (this.records > 0 && this.now() - this.oldestAt >= this.maxAgeMs);
  }

  /** Writes and empties the buffer; never rejects (a batch that cannot be serialised or written is dropped). */
  async flush(): Promise<FlushResult> {
    if (this.records === 0) return { written: 0, dropped: 0 };
    const batch = this.pending;
    const records = this.records;
    this.pending = [];
    this.records = 0;
    let timer: NodeJS.Timeout | undefined;
    try {
      const body = this.jsonLines(batch);
      await Promise.race([
        this.options.write(this.keyFor(this.oldestAt), body),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`capture write took over ${this.writeTimeoutMs} ms`)), this.writeTimeoutMs);
        }),
      ]);
      return { written: records, dropped: 0 };
    } catch (error) {
      return { written: 0, dropped: records, error: error as Error };
    } finally {
      clearTimeout(timer);
    }
  }

  /** One line per row; the fields shared by a request's rows are serialised once per request. */
  private jsonLines(batch: readonly PendingRequest[]): string {
    let body = '';
    for (const { at, requestId, modelVersion, inputs, outputs } of batch) {
      const shared = JSON.stringify({ capturedAt: new Date(at).toISOString(), requestId, modelName: this.options.modelName, modelVersion });
      const prefix = `${shared.slice(0, -1)},"row":`;
      for (let row = 0; row < inputs.length; row++) {
        body += `${prefix}${row},"input":${JSON.stringify(inputs[row]) ?? 'null'},"output":${JSON.stringify(outputs[row]) ?? 'null'}}\n`;
      }
    }
    return body;
  }

  /** `<model>/serverless/yyyy/mm/dd/hh/<iso-time>-<uuid>.jsonl`: hour partitions, as SageMaker capture uses. */
  private keyFor(at: number): string {
    const iso = new Date(at).toISOString();
    const [date, time] = iso.split('T') as [string, string];
    const [year, month, day] = date.split('-');
    return `${this.options.modelName}/serverless/${year}/${month}/${day}/${time.slice(0, 2)}/${iso.replace(/[:.]/g, '-')}-${randomUUID()}.jsonl`;
  }
}
