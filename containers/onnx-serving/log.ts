/**
 * Structured logs: one JSON object per line on stdout, which SageMaker ships to the endpoint's
 * CloudWatch log group. Callers pass identifiers, sizes, statuses and timings, never request or
 * response bodies: rows may hold personal data.
 */

export type LogFields = Record<string, unknown>;

export interface Logger {
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

export function jsonLogger(write: (line: string) => void = (line) => process.stdout.write(line)): Logger {
  const entry =
    (level: string) =>
    (message: string, fields: LogFields = {}) =>
      write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  return { info: entry('INFO'), warn: entry('WARN'), error: entry('ERROR') };
}
