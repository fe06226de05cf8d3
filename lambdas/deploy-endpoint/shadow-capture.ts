/**
 * The shadow variant's agreement with production, from SageMaker data capture: during the shadow
 * phase the endpoint captures every request on both variants (one JSON Lines record per request:
 * `{ captureData: { endpointInput, endpointOutput }, eventMetadata: { eventId, inferenceId?,
 * inferenceTime } }`). A replicated request's shadow record is joined to its production record by
 * `inferenceId` when the caller set one, else by `eventId`, and their answers are compared row by
 * row with the serverless shadow's rule (lambdas/shared/serving/shadow.ts: the same label, or a
 * value within the relative tolerance). Records without a partner are counted, never compared.
 */
import type { ModelSchema, Prediction } from '../../contracts/serving-schema';
import { agrees, answersOf } from '../shared/serving/shadow';

/** Production records held in memory for the join; beyond it the window is judged on the first ones. */
export const MAX_JOINED_RECORDS = 50_000;

/** One captured request: its join key, when it was answered, and the answers (one per row). */
export interface CapturedAnswers {
  readonly key: string;
  readonly at: number;
  readonly predictions: readonly Prediction[];
}

export interface CaptureAgreement {
  readonly comparedRows: number;
  readonly agreeingRows: number;
  /** Shadow records joined to a production record. */
  readonly joinedRequests: number;
  /** Shadow records without a production record in the window (capture lag, or a record past MAX_JOINED_RECORDS). */
  readonly unmatchedShadowRecords: number;
  /** Lines that are not capture records with answers; the first problem is kept. */
  readonly malformedLines: number;
  readonly firstProblem?: string;
}

/** Reads one capture line; a string says why it is not a usable record. */
export function parseCapturedAnswers(line: string): CapturedAnswers | string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    return `not JSON: ${(error as Error).message}`;
  }
  if (typeof record !== 'object' || record === null) return 'not a JSON object';
  const { captureData, eventMetadata } = record as { captureData?: { endpointOutput?: unknown }; eventMetadata?: Record<string, unknown> };
  const key = typeof eventMetadata?.inferenceId === 'string' ? eventMetadata.inferenceId : eventMetadata?.eventId;
  if (typeof key !== 'string' || key === '') return 'no eventMetadata.eventId';
  const at = typeof eventMetadata?.inferenceTime === 'string' ? Date.parse(eventMetadata.inferenceTime) : Number.NaN;
  if (Number.isNaN(at)) return '"eventMetadata.inferenceTime" is not an ISO 8601 time';
  const predictions = decodePredictions(captureData?.endpointOutput);
  return typeof predictions === 'string' ? `endpointOutput: ${predictions}` : { key, at, predictions };
}

function decodePredictions(side: unknown): Prediction[] | string {
  if (typeof side !== 'object' || side === null) return 'missing (capture without Output mode?)';
  const { data, encoding } = side as Record<string, unknown>;
  if (typeof data !== 'string') return '"data" is not a string';
  const text = encoding === 'BASE64' ? Buffer.from(data, 'base64').toString('utf8') : data;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    return `body is not JSON: ${(error as Error).message}`;
  }
  const list = Array.isArray(body) ? body : (body as { predictions?: unknown } | null)?.predictions;
  if (!Array.isArray(list)) return 'body holds no "predictions" list';
  for (const prediction of list) {
    if (typeof prediction !== 'object' || prediction === null || !('label' in prediction || 'value' in prediction)) {
      return 'a prediction has neither "label" nor "value"';
    }
  }
  return list as Prediction[];
}

/**
 * Joins the two variants' capture over a window: production lines first (held by key, at most
 * MAX_JOINED_RECORDS), then the shadow's, each compared as it arrives.
 */
export class CaptureJoin {
  private readonly production = new Map<string, readonly Prediction[]>();
  private comparedRows = 0;
  private agreeingRows = 0;
  private joinedRequests = 0;
  private unmatchedShadowRecords = 0;
  private malformedLines = 0;
  private firstProblem: string | undefined;

  constructor(
    private readonly problemType: ModelSchema['problemType'],
    private readonly tolerance: number,
    /** Half-open [start, end) in epoch milliseconds; records outside it are skipped. */
    private readonly window: { readonly start: number; readonly end: number },
  ) {}

  addProductionLine(line: string): void {
    const record = this.read(line);
    if (!record || this.production.size >= MAX_JOINED_RECORDS) return;
    this.production.set(record.key, record.predictions);
  }

  addShadowLine(line: string): void {
    const record = this.read(line);
    if (!record) return;
    const production = this.production.get(record.key);
    if (!production) {
      this.unmatchedShadowRecords++;
      return;
    }
    this.production.delete(record.key);
    if (production.length !== record.predictions.length) {
      this.problem(`request ${record.key}: production answered ${production.length} rows and the shadow ${record.predictions.length}`);
      return;
    }
    this.joinedRequests++;
    const answers = answersOf(production);
    for (let row = 0; row < answers.length; row++) {
      this.comparedRows++;
      if (agrees(this.problemType, answers[row]!, record.predictions[row]!, this.tolerance)) this.agreeingRows++;
    }
  }

  result(): CaptureAgreement {
    return {
      comparedRows: this.comparedRows,
      agreeingRows: this.agreeingRows,
      joinedRequests: this.joinedRequests,
      unmatchedShadowRecords: this.unmatchedShadowRecords,
      malformedLines: this.malformedLines,
      ...(this.firstProblem ? { firstProblem: this.firstProblem } : {}),
    };
  }

  private read(line: string): CapturedAnswers | undefined {
    if (line.trim() === '') return undefined;
    const record = parseCapturedAnswers(line);
    if (typeof record === 'string') {
      this.problem(record);
      return undefined;
    }
    return record.at >= this.window.start && record.at < this.window.end ? record : undefined;
  }

  private problem(text: string): void {
    this.malformedLines++;
    this.firstProblem ??= text;
  }
}
