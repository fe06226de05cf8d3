/**
 * Flags inputs outside what a model version was trained on, without refusing them: per row, the
 * features whose value lies below the smallest or above the largest value of the training split,
 * or a category (or boolean) value the training split never held. Checked on the encoded rows
 * (float32) against bounds rounded to float32 the same way, so a value equal to a bound is never
 * flagged; a null is never flagged. Shared by the predict function and the endpoint's container.
 */
import type { ModelSchema, Prediction, TrainingRanges } from '../../../contracts/serving-schema';
import type { EncodedRows } from './features';

type FeatureCheck =
  | { readonly kind: 'numeric'; readonly column: number; readonly name: string; readonly low: number; readonly high: number }
  /** `seen[code]` is 1 when the training split held that encoded value (category index, boolean 0/1). */
  | { readonly kind: 'coded'; readonly column: number; readonly name: string; readonly seen: Uint8Array };

export class RangeCheck {
  private constructor(private readonly checks: readonly FeatureCheck[]) {}

  /** The check of a schema's features against a version's ranges; undefined when no feature has one. */
  static of(schema: ModelSchema, ranges: TrainingRanges | undefined): RangeCheck | undefined {
    if (!ranges) return undefined;
    const checks = schema.features.flatMap((feature, column): FeatureCheck[] => {
      const range = ranges[feature.name];
      if (!range) return [];
      if ('min' in range)
        return [{ kind: 'numeric', column, name: feature.name, low: Math.fround(range.min), high: Math.fround(range.max) }];
      const codes = feature.type === 'boolean' ? ['false', 'true'] : feature.type === 'category' ? feature.allowedValues! : undefined;
      if (!codes) return [];
      const seen = new Uint8Array(codes.length);
      codes.forEach((value, code) => {
        seen[code] = range.values.includes(value) ? 1 : 0;
      });
      return [{ kind: 'coded', column, name: feature.name, seen }];
    });
    return checks.length === 0 ? undefined : new RangeCheck(checks);
  }

  /** Sets `outOfRange` on the predictions of flagged rows; returns how many rows were flagged. */
  flag(encoded: EncodedRows, predictions: Prediction[]): number {
    const { values, rows, columns } = encoded;
    let flagged = 0;
    for (let row = 0; row < rows; row++) {
      const offset = row * columns;
      let names: string[] | undefined;
      for (const check of this.checks) {
        const value = values[offset + check.column]!;
        // NaN (a null) compares false either way and is not a code: never flagged.
        const outside = check.kind === 'numeric' ? value < check.low || value > check.high : check.seen[value] === 0;
        if (!outside) continue;
        if (names) names.push(check.name);
        else names = [check.name];
      }
      if (names) {
        predictions[row]!.outOfRange = names;
        flagged++;
      }
    }
    return flagged;
  }
}
