/** The CLI's human-readable output: plain-text tables, key/value blocks, and how runs and predictions read. */
import type { ExecutionStatus } from '../contracts/api';
import type { BatchedPredictResponse } from './predict-batches';

export type Cell = string | number | boolean | undefined | null;

/** Left-aligned columns separated by two spaces, a header row and a rule under it. */
export function table(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((row) => headers.map((_, index) => cellText(row[index])));
  const widths = headers.map((header, index) => Math.max(header.length, ...text.map((row) => row[index]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, index) => cell.padEnd(widths[index]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((width) => '-'.repeat(width))), ...text.map(line)].join('\n');
}

/** `key: value` lines with the keys aligned (a value's further lines indented under its first); undefined values are left out. */
export function fields(entries: ReadonlyArray<readonly [string, Cell]>): string {
  const present = entries.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...present.map(([key]) => key.length));
  const indent = ' '.repeat(width + 2);
  return present.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cellText(value).replaceAll('\n', `\n${indent}`)}`).join('\n');
}

function cellText(value: Cell): string {
  if (value === undefined || value === null) return '-';
  return String(value);
}

export function describeExecution(status: ExecutionStatus): string {
  const head = fields([
    ['execution', status.executionArn],
    ['status', status.status],
    [status.status === 'RUNNING' ? 'current state' : 'stopped in', status.currentState],
    ['started', status.startDate],
    ['stopped', status.stopDate],
    ['error', status.error],
    ['reason', status.cause],
  ]);
  if (status.states.length === 0) return head;
  return `${head}\n\n${table(
    ['STATE', 'ENTERED', 'EXITED'],
    status.states.map((state) => [state.name, state.enteredAt, state.exitedAt]),
  )}`;
}

/** How a followed run ended: the time it succeeded, or where it stopped, the error and its reason. */
export function describeEnd(status: ExecutionStatus): string {
  if (status.status === 'SUCCEEDED') return `${status.status} at ${status.stopDate ?? '?'}`;
  return fields([
    ['status', status.status],
    ['stopped in', status.currentState],
    ['error', status.error],
    ['reason', status.cause],
  ]);
}

/** A followed run's progress line: the state it is in and for how long. */
export function describeProgress(state: string, seconds: number): string {
  return `  … ${state}: ${formatDuration(seconds)} so far`;
}

export function formatDuration(seconds: number): string {
  const whole = Math.max(0, Math.round(seconds));
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  const rest = whole % 60;
  if (hours > 0) return `${hours}h ${String(minutes).padStart(2, '0')}m`;
  return minutes > 0 ? `${minutes}m ${String(rest).padStart(2, '0')}s` : `${rest}s`;
}

export function describePredictions(result: BatchedPredictResponse): string {
  const flagged = result.predictions.some((prediction) => prediction.outOfRange !== undefined);
  const rows = result.predictions.map((prediction, index): Cell[] => {
    const outside = flagged ? [prediction.outOfRange?.join(', ')] : [];
    if ('value' in prediction) return [index + 1, prediction.value, undefined, ...outside];
    const { probabilities } = prediction;
    return [index + 1, prediction.label, probabilities.length > 0 ? Math.max(...probabilities).toFixed(4) : undefined, ...outside];
  });
  const headers = ['ROW', 'PREDICTION', 'PROBABILITY', ...(flagged ? ['OUTSIDE TRAINING RANGE'] : [])];
  return [versionsLine(result), table(headers, rows), ...(flagged ? [outOfRangeSummary(result)] : [])].filter(Boolean).join('\n');
}

/** `churn version 3`, or each version with its rows when a canary answered some of the requests. */
function versionsLine(result: BatchedPredictResponse): string {
  if (!result.modelName) return '';
  const rowsByVersion = new Map<number, number>();
  for (const request of result.requests ?? [{ rows: result.predictions.length, modelVersion: result.modelVersion }]) {
    rowsByVersion.set(request.modelVersion, (rowsByVersion.get(request.modelVersion) ?? 0) + request.rows);
  }
  if (rowsByVersion.size === 1) return `${result.modelName} version ${result.modelVersion}`;
  const parts = [...rowsByVersion].map(([version, rows]) => `${version} (${rows} rows)`);
  return `${result.modelName} versions ${parts.join(', ')}`;
}

/** How many rows had inputs outside the model's training data, and which features, most often first. */
function outOfRangeSummary(result: BatchedPredictResponse): string {
  const byFeature = new Map<string, number>();
  let rows = 0;
  for (const prediction of result.predictions) {
    if (!prediction.outOfRange) continue;
    rows++;
    for (const feature of prediction.outOfRange) byFeature.set(feature, (byFeature.get(feature) ?? 0) + 1);
  }
  const features = [...byFeature]
    .sort(([a, left], [b, right]) => right - left || a.localeCompare(b))
    .map(([feature, count]) => `${feature} (${count})`);
  return `\n${rows} of ${result.predictions.length} rows have inputs outside what the model was trained on: ${features.join(', ')}; their predictions are extrapolations`;
}

export function formatMetrics(metrics: unknown): string {
  if (typeof metrics !== 'object' || metrics === null) return '-';
  const entries = Object.entries(metrics as Record<string, number>);
  return entries.length === 0 ? '-' : entries.map(([name, value]) => `${name}=${Number(value).toPrecision(4)}`).join(' ');
}
