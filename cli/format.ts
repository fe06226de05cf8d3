/** Plain-text tables and key/value blocks for the CLI's human-readable output. */

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
