/**
 * Profiles plain in-memory values, for tests and benchmarks: the readers feed the column
 * profilers batch by batch instead, so no deployed code needs this.
 */

import {
  CELL_INVALID,
  CELL_NULL,
  type ColumnProfile,
  type DatasetProfile,
  PROFILE_FORMAT_VERSION,
  type ProfiledColumn,
} from '../lambdas/shared/profile/profile';
import { CategoricalColumnProfiler, NumericColumnProfiler } from '../lambdas/shared/profile/profilers';

/** Profiles each column's values (numbers binned with the reference's edges when one is given). */
export function profileValues(
  columns: readonly (ProfiledColumn & { values: readonly (number | string | null)[] })[],
  reference?: DatasetProfile,
): DatasetProfile {
  const rowCount = columns[0]?.values.length ?? 0;
  const result: Record<string, ColumnProfile> = {};
  for (const column of columns) {
    const states = new Uint8Array(column.values.length);
    if (column.kind === 'numeric') {
      const referenceColumn = reference?.columns[column.name];
      const profiler = new NumericColumnProfiler(referenceColumn?.kind === 'numeric' ? referenceColumn.histogram.edges : undefined);
      const values = new Float64Array(column.values.length);
      column.values.forEach((value, index) => {
        if (value === null) states[index] = CELL_NULL;
        else if (typeof value !== 'number' || !Number.isFinite(value)) states[index] = CELL_INVALID;
        else values[index] = value;
      });
      profiler.addBatch(values, states, values.length);
      result[column.name] = profiler.finish();
    } else {
      const dictionary: string[] = [];
      const codesByValue = new Map<string, number>();
      const codes = new Int32Array(column.values.length);
      column.values.forEach((value, index) => {
        if (value === null) {
          states[index] = CELL_NULL;
          return;
        }
        const text = String(value);
        let code = codesByValue.get(text);
        if (code === undefined) {
          code = dictionary.push(text) - 1;
          codesByValue.set(text, code);
        }
        codes[index] = code;
      });
      const profiler = new CategoricalColumnProfiler();
      profiler.addBatch(codes, states, codes.length);
      result[column.name] = profiler.finish(dictionary);
    }
  }
  return { formatVersion: PROFILE_FORMAT_VERSION, rowCount, columns: result };
}
