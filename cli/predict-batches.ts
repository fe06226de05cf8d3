/**
 * `mlops predict` over many rows: the rows go in as many requests as the API's limits need — at
 * most MAX_ROWS_PER_REQUEST rows, and a body that still fits a synchronous Lambda invocation (or
 * InvokeEndpoint) once a proxy event carries it as a JSON string; the same for the answer, whose
 * size per row is learnt from the first request — and the answers are joined in file order.
 */
import { MAX_PREDICT_BODY_BYTES, MAX_ROWS_PER_REQUEST } from '../contracts/limits';
import type { Prediction, PredictResponse } from '../contracts/serving-schema';
import type { JsonLine } from './arguments';
import { ApiError } from './client';

/** Rows in the first request, before the size of an answer per row is known. */
export const FIRST_REQUEST_ROWS = 1_000;
/** Headroom over the largest answer per row seen so far (rows flagged out of range answer longer). */
const ANSWER_MARGIN = 1.25;

export interface BatchLimits {
  readonly maxRows: number;
  /** The body's size as a JSON string in a proxy event. */
  readonly maxBodyBytes: number;
  readonly firstRequestRows: number;
}

export const API_BATCH_LIMITS: BatchLimits = {
  maxRows: MAX_ROWS_PER_REQUEST,
  maxBodyBytes: MAX_PREDICT_BODY_BYTES,
  firstRequestRows: FIRST_REQUEST_ROWS,
};

/** One request of a batched prediction. */
export interface RequestSummary {
  /** File line of the request's first row. */
  readonly firstLine: number;
  readonly rows: number;
  readonly modelVersion: number;
}

/** The joined answer; `requests` is present when the rows took more than one request. */
export interface BatchedPredictResponse extends PredictResponse {
  readonly requests?: readonly RequestSummary[];
}

export interface BatchProgress {
  readonly scoredRows: number;
  readonly totalRows: number;
  readonly requests: number;
}

/** Bytes a text takes as a JSON string in a proxy event: quotes, backslashes and control characters escaped. */
export function escapedBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

const BODY_HEAD = '{"instances":[';
const BODY_TAIL = ']}';
/** The escaped body's bytes besides its rows: the head, the tail and the string's own quotes. */
const BODY_FRAME_BYTES = escapedBytes(BODY_HEAD + BODY_TAIL);

/**
 * Scores `rows` through `send` (one POST per request, the body already serialised), oldest
 * first; `progress` hears after every request. A refused request is an ApiError whose message
 * names file lines instead of `instances[i]`, and says how many rows were scored before it.
 */
export async function predictInBatches(
  send: (bodyText: string) => Promise<{ value: PredictResponse; text: string }>,
  rows: readonly JsonLine[],
  progress: (progress: BatchProgress) => void = () => {},
  limits: BatchLimits = API_BATCH_LIMITS,
): Promise<BatchedPredictResponse> {
  const texts = rows.map((row) => JSON.stringify(row.value));
  const sizes = texts.map((text) => escapedBytes(text) - 2);
  sizes.forEach((size, index) => {
    if (size + BODY_FRAME_BYTES > limits.maxBodyBytes) {
      throw new ApiError(
        413,
        'RowTooLarge',
        `line ${rows[index]!.line} alone takes ${formatBytes(size)} in a request, over the ${formatBytes(limits.maxBodyBytes)} a request may carry`,
        {},
      );
    }
  });
  const predictions: Prediction[] = [];
  const requests: RequestSummary[] = [];
  let first: PredictResponse | undefined;
  let answerBytesPerRow = 0;
  let start = 0;
  while (start < rows.length) {
    const rowLimit =
      answerBytesPerRow === 0 ? limits.firstRequestRows : Math.floor(limits.maxBodyBytes / (answerBytesPerRow * ANSWER_MARGIN));
    const end = batchEnd(sizes, start, Math.max(1, Math.min(limits.maxRows, rowLimit)), limits.maxBodyBytes);
    let answer: { value: PredictResponse; text: string };
    try {
      answer = await send(`${BODY_HEAD}${texts.slice(start, end).join(',')}${BODY_TAIL}`);
    } catch (error) {
      throw error instanceof ApiError ? inFileTerms(error, rows, start, end, requests.length) : error;
    }
    const { value } = answer;
    first ??= value;
    predictions.push(...value.predictions);
    requests.push({ firstLine: rows[start]!.line, rows: end - start, modelVersion: value.modelVersion });
    answerBytesPerRow = Math.max(answerBytesPerRow, escapedBytes(answer.text) / (end - start));
    start = end;
    progress({ scoredRows: start, totalRows: rows.length, requests: requests.length });
  }
  return { ...first!, predictions, ...(requests.length > 1 ? { requests } : {}) };
}

/** The end (exclusive) of the request starting at `start`: at most `maxRows` rows whose escaped body fits. */
export function batchEnd(sizes: readonly number[], start: number, maxRows: number, maxBodyBytes: number): number {
  let bytes = BODY_FRAME_BYTES;
  let end = start;
  while (end < sizes.length && end - start < maxRows) {
    const next = bytes + sizes[end]! + (end > start ? 1 : 0);
    if (next > maxBodyBytes) break;
    bytes = next;
    end++;
  }
  return Math.max(end, start + 1);
}

/** The refusal with `instances[i]` replaced by the file line it came from, and what was scored before it. */
function inFileTerms(error: ApiError, rows: readonly JsonLine[], start: number, end: number, before: number): ApiError {
  const lineOf = (text: string) =>
    text.replace(/instances\[(\d+)\](\.)?/g, (match, index: string, dot: string | undefined) => {
      const row = rows[start + Number(index)];
      return row ? `line ${row.line}${dot ? ', ' : ''}` : match;
    });
  const problems = error.details.problems;
  const details = Array.isArray(problems)
    ? { ...error.details, problems: problems.map((problem) => lineOf(String(problem))) }
    : error.details;
  const scope = rows.length > end - start ? ` (request ${before + 1}: lines ${rows[start]!.line}–${rows[end - 1]!.line})` : '';
  const scored = before > 0 ? `; the ${start} rows before it were scored and are not printed` : '';
  return new ApiError(error.status, error.code, `${lineOf(error.message)}${scope}${scored}`, details);
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`;
}
