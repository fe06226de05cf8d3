/** Reading the CLI's arguments and input files; bad usage is a UsageError (exit 2). */
import type { CliIo } from './mlops';

/** Raised for bad usage found after parsing (a missing API URL, an unreadable file). */
export class UsageError extends Error {}

export function executionPath(execution: string): string {
  return `pipelines/executions/${encodeURIComponent(execution)}`;
}

export function readJsonLines(io: CliIo, path: string): unknown[] {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  const rows: unknown[] = [];
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      rows.push(JSON.parse(line));
    } catch (error) {
      throw new UsageError(`${path} line ${index + 1} is not JSON: ${(error as Error).message}`);
    }
  });
  if (rows.length === 0) throw new UsageError(`${path} holds no rows`);
  return rows;
}

export function keyValues(pairs: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new UsageError(`--hyperparameter must be key=value, got "${pair}"`);
    result[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return result;
}

export function positiveInteger(text: string): number {
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`expected a positive whole number, got "${text}"`);
  return Number(text);
}

export function positiveNumber(text: string): number {
  const value = Number(text);
  if (!(value > 0)) throw new UsageError(`expected a positive number of seconds, got "${text}"`);
  return value;
}
