/** Reading the CLI's arguments and input files; bad usage is a UsageError (exit 2). */
import { S3_URI_PATTERN } from '../contracts/limits';
import type { CliIo } from './mlops';

/** Raised for bad usage found after parsing (a missing API URL, an unreadable file). */
export class UsageError extends Error {}

export function executionPath(execution: string): string {
  return `pipelines/executions/${encodeURIComponent(execution)}`;
}

/** One row of a JSON Lines file: the parsed value and the line it came from (1-based). */
export interface JsonLine {
  readonly value: unknown;
  readonly line: number;
}

/** A file's text ("-": standard input, read to its end); an unreadable file is a UsageError naming it. */
export async function readText(io: CliIo, path: string): Promise<string> {
  try {
    return await io.readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path === '-' ? 'standard input' : path}: ${(error as Error).message}`);
  }
}

/** Every non-blank line of a JSON Lines file, parsed; a line that is not JSON is a UsageError naming it. */
export async function readJsonLines(io: CliIo, path: string): Promise<JsonLine[]> {
  const text = await readText(io, path);
  const name = path === '-' ? 'standard input' : path;
  const rows: JsonLine[] = [];
  let line = 0;
  for (const entry of text.split('\n')) {
    line++;
    if (entry.trim() === '') continue;
    try {
      rows.push({ value: JSON.parse(entry), line });
    } catch (error) {
      throw new UsageError(`${name} line ${line} is not JSON: ${(error as Error).message}`);
    }
  }
  if (rows.length === 0) throw new UsageError(`${name} holds no rows`);
  return rows;
}

/**
 * A dataset argument (`--data`, `--holdout`) that is not an s3:// URI: the pipeline reads only
 * from S3, so a local path has to be uploaded first. Returns undefined for an S3 URI.
 */
export function localDatasetPath(value: string): string | undefined {
  if (S3_URI_PATTERN.test(value)) return undefined;
  if (/^s3:\/\//i.test(value)) {
    throw new UsageError(`"${value}" is not an s3://bucket/key URI (a lowercase bucket name, then a key or a prefix ending in /)`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new UsageError(`"${value}" is not an s3:// URI; the pipeline reads datasets from S3 only`);
  }
  return value;
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

/** A percentage, 0 to 100. */
export function percentage(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !(value >= 0 && value <= 100)) throw new UsageError(`expected a percentage between 0 and 100, got "${text}"`);
  return value;
}
