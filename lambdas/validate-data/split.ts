/**
 * Splits the valid rows of a dataset into training, validation and holdout rows as the model's
 * `split` settings say, in the same pass as validation, and writes each split as CSV parts with
 * the schema's columns as the header. Values are written as parsed (numbers in JavaScript's
 * shortest round-trip form, timestamps as ISO 8601 UTC, booleans true/false, categories and
 * strings as their text, nulls empty), so every input format gives the same training files.
 *
 * Assignment is deterministic. With an id column, a row goes where the FNV-1a hash of the seed and
 * its id falls (an entity's rows share a side, run after run). Without one, rows are dealt in
 * order per stratum (the target's class for classification, one stratum for regression) to the
 * split furthest below its share, so each class keeps the dataset's proportions within one row.
 * The holdout is never a training channel; with an explicit holdoutUri there is no holdout split.
 * The training split's range of each model feature (min/max, or the values seen) is measured on the
 * way: it travels with the model (serving-schema.json in its artifact) so serving can flag inputs
 * outside what the model learnt from.
 */
import { createHash, type Hash } from 'node:crypto';
import type { ColumnConfig } from '../../contracts/columns';
import type { SplitConfig } from '../../contracts/model';
import type { TrainingRanges } from '../../contracts/serving-schema';
import { CELL_VALUE, type ColumnBatch, type ColumnSpec } from '../shared/readers/columns';

export const SPLIT_NAMES = ['train', 'validation', 'holdout'] as const;
export type SplitName = (typeof SPLIT_NAMES)[number];

/** A part object is written when a split's buffered CSV reaches this size. */
export const SPLIT_PART_BYTES = 16 * 1024 * 1024;

export interface SplitStats {
  readonly rows: number;
  /** SHA-256 of the split's CSV bytes (every part, in order, header included once per part). */
  readonly sha256: string;
  /** Rows per class label (classification only). */
  readonly classes?: Record<string, number>;
}

export interface SplitOutcome {
  readonly seed: number;
  /** Valid rows without a target, in no split. */
  readonly unlabelledRows: number;
  readonly idColumn?: string;
  readonly holdoutFraction: number;
  readonly validationFraction: number;
  readonly train: SplitStats;
  readonly validation: SplitStats;
  /** Absent when the run names its own holdout. */
  readonly holdout?: SplitStats;
  /** The training split's range of each tracked feature (features with no value in it are left out). */
  readonly trainingRanges?: TrainingRanges;
}

/** A finished part: which split, its CSV text. */
export interface SplitPart {
  readonly split: SplitName;
  readonly index: number;
  readonly text: string;
}

interface SplitBuffer {
  chunks: string[];
  bytes: number;
  parts: number;
  rows: number;
  readonly hash: Hash;
  readonly classes: Map<string, number>;
}

/** Values in the order of `allowed` when given (booleans: false, true), else in code-point order. */
export function sortedValues(values: readonly string[], allowed?: readonly string[]): string[] {
  const order = allowed ?? ['false', 'true'];
  const rank = (value: string) => {
    const index = order.indexOf(value);
    return index < 0 ? order.length : index;
  };
  return [...new Set(values)].sort((a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0));
}

/** 32-bit FNV-1a of a string's UTF-16 code units: fast, stable across runs and platforms. */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export interface DatasetSplitterOptions {
  readonly columns: readonly ColumnConfig[];
  readonly specs: readonly ColumnSpec[];
  readonly target: string;
  readonly classification: boolean;
  readonly split: SplitConfig;
  /** False when the run brings its own holdout: the rows go to training and validation only. */
  readonly withHoldout: boolean;
  /** Columns (the model's features) whose range in the training split is measured. */
  readonly rangeColumns?: readonly string[];
}

/** The training split's running range of one feature column. */
type RangeTally =
  | { readonly kind: 'numeric'; readonly column: number; readonly timestamp: boolean; min: number; max: number }
  // A coded column with more distinct values than its dictionary keeps (transient codes) has no range: unbounded.
  | { readonly kind: 'coded'; readonly column: number; readonly seen: Set<number>; unbounded: boolean };

export class DatasetSplitter {
  private readonly buffers: Record<SplitName, SplitBuffer>;
  private readonly shares: Readonly<Record<SplitName, number>>;
  private readonly header: string;
  private readonly targetIndex: number;
  private readonly idIndex: number;
  /** Per stratum: rows dealt so far, and per split how many went there. */
  private readonly strata = new Map<string, { dealt: number; counts: Record<SplitName, number> }>();
  private readonly finished: SplitPart[] = [];
  private readonly ranges: RangeTally[];

  constructor(private readonly options: DatasetSplitterOptions) {
    const holdout = options.withHoldout ? options.split.holdoutFraction : 0;
    const validation = options.split.validationFraction;
    this.shares = { holdout, validation, train: 1 - holdout - validation };
    const buffer = (): SplitBuffer => ({ chunks: [], bytes: 0, parts: 0, rows: 0, hash: createHash('sha256'), classes: new Map() });
    this.buffers = { train: buffer(), validation: buffer(), holdout: buffer() };
    this.header = `${options.specs.map((spec) => csvCell(spec.name)).join(',')}\n`;
    this.targetIndex = options.specs.findIndex((spec) => spec.name === options.target);
    this.idIndex = options.split.idColumn === undefined ? -1 : options.specs.findIndex((spec) => spec.name === options.split.idColumn);
    this.ranges = (options.rangeColumns ?? []).flatMap((name): RangeTally[] => {
      const column = options.specs.findIndex((spec) => spec.name === name);
      const type = options.specs[column]?.type;
      if (type === undefined || type === 'string') return [];
      return type === 'category' || type === 'boolean'
        ? [{ kind: 'coded', column, seen: new Set(), unbounded: false }]
        : [{ kind: 'numeric', column, timestamp: type === 'timestamp', min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY }];
    });
  }

  /** Valid rows left out of every split because their target is empty (they can neither train nor evaluate). */
  unlabelledRows = 0;

  /** Deals the rows of a batch that are not flagged bad (`bad[row] === 1`). */
  addBatch(batch: ColumnBatch, bad: Uint8Array): void {
    const target = batch.columns[this.targetIndex];
    for (let row = 0; row < batch.rowCount; row++) {
      if (bad[row] === 1) continue;
      if (!target || target.states[row] !== CELL_VALUE) {
        this.unlabelledRows++;
        continue;
      }
      const stratum = this.options.classification ? this.cell(batch, this.targetIndex, row) : '';
      const split = this.idIndex >= 0 ? this.byId(batch, row) : this.deal(stratum);
      if (split === 'train') this.trackRanges(batch, row);
      this.write(split, this.rowCsv(batch, row), stratum);
    }
  }

  /** Parts that filled up since the last call, to be written now (their memory is released). */
  takeParts(): SplitPart[] {
    return this.finished.splice(0);
  }

  /** Flushes the rest (every split gets at least one part, header only if empty, so each channel exists) and returns the counts. */
  finish(): { parts: SplitPart[]; outcome: SplitOutcome } {
    for (const name of SPLIT_NAMES) {
      if (name === 'holdout' && !this.options.withHoldout) continue;
      const buffer = this.buffers[name];
      if (buffer.bytes > 0 || buffer.parts === 0) this.flush(name);
    }
    const stats = (name: SplitName): SplitStats => {
      const buffer = this.buffers[name];
      return {
        rows: buffer.rows,
        sha256: buffer.hash.digest('hex'),
        ...(this.options.classification ? { classes: Object.fromEntries([...buffer.classes].sort(([a], [b]) => a.localeCompare(b))) } : {}),
      };
    };
    const { split } = this.options;
    return {
      parts: this.takeParts(),
      outcome: {
        seed: split.seed,
        unlabelledRows: this.unlabelledRows,
        ...(split.idColumn === undefined ? {} : { idColumn: split.idColumn }),
        holdoutFraction: this.shares.holdout,
        validationFraction: split.validationFraction,
        train: stats('train'),
        validation: stats('validation'),
        ...(this.options.withHoldout ? { holdout: stats('holdout') } : {}),
        ...(this.ranges.length > 0 ? { trainingRanges: this.trainingRanges() } : {}),
      },
    };
  }

  private trackRanges(batch: ColumnBatch, row: number): void {
    for (const range of this.ranges) {
      const vector = batch.columns[range.column];
      if (!vector || vector.states[row] !== CELL_VALUE) continue;
      if (range.kind === 'numeric' && vector.kind === 'numeric') {
        const value = vector.values[row]!;
        if (value < range.min) range.min = value;
        if (value > range.max) range.max = value;
      } else if (range.kind === 'coded' && vector.kind !== 'numeric') {
        const code = vector.codes[row]!;
        if (this.options.specs[range.column]!.dictionary.isTransient(code)) range.unbounded = true;
        else range.seen.add(code);
      }
    }
  }

  /** In the serving encoding: timestamps in epoch seconds; values in the column's allowedValues order (else sorted). */
  private trainingRanges(): TrainingRanges {
    const result: TrainingRanges = {};
    for (const range of this.ranges) {
      const spec = this.options.specs[range.column]!;
      if (range.kind === 'numeric') {
        if (range.min > range.max) continue;
        const scale = range.timestamp ? 1000 : 1;
        result[spec.name] = { min: range.min / scale, max: range.max / scale };
      } else if (range.seen.size > 0 && !range.unbounded) {
        const allowed = this.options.columns.find((column) => column.name === spec.name)?.allowedValues;
        result[spec.name] = {
          values: sortedValues(
            [...range.seen].map((code) => spec.dictionary.values[code]!),
            allowed,
          ),
        };
      }
    }
    return result;
  }

  private byId(batch: ColumnBatch, row: number): SplitName {
    const u = fnv1a(`${this.options.split.seed}:${this.cell(batch, this.idIndex, row)}`) / 2 ** 32;
    if (u < this.shares.holdout) return 'holdout';
    if (u < this.shares.holdout + this.shares.validation) return 'validation';
    return 'train';
  }

  /** The split furthest below its share within the stratum (ties: holdout, validation, train). */
  private deal(stratum: string): SplitName {
    let state = this.strata.get(stratum);
    if (!state) {
      state = { dealt: 0, counts: { train: 0, validation: 0, holdout: 0 } };
      this.strata.set(stratum, state);
    }
    state.dealt++;
    let best: SplitName = 'train';
    let bestDeficit = Number.NEGATIVE_INFINITY;
    for (const name of ['holdout', 'validation', 'train'] as const) {
      if (this.shares[name] === 0) continue;
      const deficit = state.dealt * this.shares[name] - state.counts[name];
      if (deficit > bestDeficit + 1e-12) {
        best = name;
        bestDeficit = deficit;
      }
    }
    state.counts[best]++;
    return best;
  }

  private write(split: SplitName, line: string, stratum: string): void {
    const buffer = this.buffers[split];
    buffer.chunks.push(line);
    buffer.bytes += line.length;
    buffer.rows++;
    if (this.options.classification) buffer.classes.set(stratum, (buffer.classes.get(stratum) ?? 0) + 1);
    if (buffer.bytes >= SPLIT_PART_BYTES) this.flush(split);
  }

  private flush(split: SplitName): void {
    const buffer = this.buffers[split];
    const text = this.header + buffer.chunks.join('');
    buffer.hash.update(text);
    this.finished.push({ split, index: buffer.parts, text });
    buffer.parts++;
    buffer.chunks = [];
    buffer.bytes = 0;
  }

  private rowCsv(batch: ColumnBatch, row: number): string {
    let line = '';
    for (let column = 0; column < this.options.specs.length; column++) {
      if (column > 0) line += ',';
      line += csvCell(this.cell(batch, column, row));
    }
    return `${line}\n`;
  }

  /** A cell as parsed: empty for null or absent, numbers and timestamps normalised, codes as their text. */
  private cell(batch: ColumnBatch, column: number, row: number): string {
    const vector = batch.columns[column];
    if (!vector || vector.states[row] !== CELL_VALUE) return '';
    const spec = this.options.specs[column]!;
    if (vector.kind === 'numeric') {
      const value = vector.values[row]!;
      return spec.type === 'timestamp' ? new Date(value).toISOString() : String(value);
    }
    return spec.dictionary.valueOf(vector.codes[row]!);
  }
}
