/** The CLI's human-readable output: plain-text tables, key/value blocks, and how runs and predictions read. */
import type { ExecutionStatus } from '../contracts/api';
import type { PredictResponse } from '../contracts/serving-schema';

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

/** `key: value` lines with the keys aligned; undefined values are left out. */
export function fields(entries: ReadonlyArray<readonly [string, Cell]>): string {
  const present = entries.filter(([, value]) => value !== undefined && value !== null && value !== '');
  const width = Math.max(0, ...present.map(([key]) => key.length));
  return present.map(([key, value]) => `${`${key}:`.padEnd(width + 1)} ${cellText(value)}`).join('\n');
}

function cellText(value: Cell): string {
  if (value === undefined || value === null) return '-';
  return String(value);
}

export function describeExecution(status: ExecutionStatus): string {
  const head = fields([
    ['execution', status.executionArn],
    ['status', status.status],
    ['current state', status.currentState],
    ['started', status.startDate],
    ['stopped', status.stopDate],
    ['error', status.error],
    ['cause', status.cause],
  ]);
  if (status.states.length === 0) return head;
  return `${head}\n\n${table(
    ['STATE', 'ENTERED', 'EXITED'],
    status.states.map((state) => [state.name, state.enteredAt, state.exitedAt]),
  )}`;
}

export function describeEnd(status: ExecutionStatus): string {
  if (status.status === 'SUCCEEDED') return `${status.status} at ${status.stopDate ?? '?'}`;
  return fields([
    ['status', status.status],
    ['stopped in', status.currentState],
    ['error', status.error],
    ['cause', status.cause],
  ]);
}

export function describePredictions(result: PredictResponse): string {
  const rows = result.predictions.map((prediction, index): Cell[] => {
    if ('value' in prediction) return [index + 1, prediction.value, undefined];
    const { probabilities } = prediction;
    return [index + 1, prediction.label, probabilities.length > 0 ? Math.max(...probabilities).toFixed(4) : undefined];
  });
  const header = result.modelName ? `${result.modelName} version ${result.modelVersion}\n` : '';
  return `${header}${table(['ROW', 'PREDICTION', 'PROBABILITY'], rows)}`;
}

export function formatMetrics(metrics: unknown): string {
  if (typeof metrics !== 'object' || metrics === null) return '-';
  const entries = Object.entries(metrics as Record<string, number>);
  return entries.length === 0 ? '-' : entries.map(([name, value]) => `${name}=${Number(value).toPrecision(4)}`).join(' ');
}
