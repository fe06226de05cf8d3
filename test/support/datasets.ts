/**
 * Test helpers for the dataset readers: byte sources from strings (optionally cut into chunks
 * of chosen sizes), and a collector that turns column batches back into plain values.
 */

import type { ColumnType } from '../../contracts/columns';
import type { ByteSource } from '../../lambdas/shared/readers/bytes';
import {
  BOOLEAN_VALUES,
  CELL_INVALID,
  CELL_NULL,
  CELL_SKIPPED,
  type ColumnBatch,
  ColumnDictionary,
  type ColumnSpec,
} from '../../lambdas/shared/readers/columns';

export function specsOf(columns: readonly { name: string; type: ColumnType; required?: boolean }[]): ColumnSpec[] {
  return columns.map((column) => ({
    name: column.name,
    type: column.type,
    required: column.required ?? true,
    dictionary: new ColumnDictionary(column.type === 'boolean' ? BOOLEAN_VALUES : []),
  }));
}

/** The bytes as a stream, cut at the given chunk sizes (cycled), like a network body arrives. */
export function sourceOf(content: string | Uint8Array, chunkSizes: readonly number[] = [1 << 16]): ByteSource {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  return {
    async *[Symbol.asyncIterator]() {
      let offset = 0;
      for (let index = 0; offset < bytes.length; index++) {
        const size = Math.max(1, chunkSizes[index % chunkSizes.length]!);
        yield bytes.subarray(offset, offset + size);
        offset += size;
      }
    },
  };
}

export type CellValue = number | string | null | { invalid: string } | 'skipped';

export interface CollectedRows {
  columns: Record<string, CellValue[]>;
  problems: { row: number; message: string }[];
  rowTexts: string[];
}

/** Reads every batch into plain values per column (nulls, invalid cells with their text, skipped rows). */
export async function collect(batches: AsyncIterable<ColumnBatch>, specs: readonly ColumnSpec[]): Promise<CollectedRows> {
  const result: CollectedRows = { columns: Object.fromEntries(specs.map((spec) => [spec.name, []])), problems: [], rowTexts: [] };
  for await (const batch of batches) {
    for (const problem of batch.rowProblems) result.problems.push({ row: batch.firstRowNumber + problem.index, message: problem.message });
    specs.forEach((spec, column) => {
      const vector = batch.columns[column];
      for (let row = 0; row < batch.rowCount; row++) {
        let value: CellValue;
        if (!vector) value = null;
        else if (vector.states[row] === CELL_NULL) value = null;
        else if (vector.states[row] === CELL_SKIPPED) value = 'skipped';
        else if (vector.states[row] === CELL_INVALID) value = { invalid: batch.cellText(column, row) };
        else value = vector.kind === 'numeric' ? vector.values[row]! : spec.dictionary.values[vector.codes[row]!]!;
        result.columns[spec.name]!.push(value);
      }
    });
    for (let row = 0; row < batch.rowCount; row++) result.rowTexts.push(batch.rowText(row));
  }
  return result;
}
