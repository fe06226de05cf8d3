/**
 * Dataset validation, pure domain: checks every column rule of the schema (type, nullability,
 * range, allowed values, regex, uniqueness) column by column over the readers' typed batches,
 * counts and samples violations, collects bad rows for quarantine (capped), profiles the data in
 * the same pass; report.ts then applies the dataset rules (row counts, bad-row share, target).
 * A dataset that breaks the rules is a result (`valid: false`), never an exception.
 */

import type { ColumnConfig } from '../../contracts/columns';
import { isNumericType } from '../../contracts/columns';
import type { DatasetSchema } from '../../contracts/dataset';
import { ValidationError } from '../shared/errors';
import {
  type ColumnProfile,
  type DatasetProfile,
  MAX_CATEGORY_LENGTH,
  MAX_TRACKED_CATEGORIES,
  PROFILE_FORMAT_VERSION,
} from '../shared/profile/profile';
import { CategoricalColumnProfiler, NumericColumnProfiler } from '../shared/profile/profilers';
import {
  BOOLEAN_VALUES,
  CELL_INVALID,
  CELL_NULL,
  CELL_VALUE,
  type ColumnBatch,
  ColumnDictionary,
  type ColumnSpec,
  type ColumnVector,
} from '../shared/readers/columns';
import {
  buildReport,
  type ColumnRule,
  MAX_EXAMPLES_PER_RULE,
  MAX_QUARANTINED_ROWS,
  MAX_TEXT_LENGTH,
  type QuarantinedRow,
  type ShardTallies,
  type SplitCheck,
  type Tally,
  type ValidationReport,
} from './report';
import { EXACT_UNIQUE_VALUES, UniquenessCheck } from './uniqueness';

/** Column rules in force for one column, derived once from its configuration. */
interface ColumnChecks {
  readonly config: ColumnConfig;
  readonly rules: ColumnRule[];
}

function rulesOf(column: ColumnConfig): ColumnRule[] {
  const rules: ColumnRule[] = ['type', 'nullable'];
  if (column.min !== undefined) rules.push('min');
  if (column.max !== undefined) rules.push('max');
  if (column.allowedValues) rules.push('allowedValues');
  if (column.regex !== undefined) rules.push('regex');
  if (column.unique) rules.push('unique');
  return rules;
}

function ruleMessage(rule: ColumnRule, column: ColumnConfig): string {
  switch (rule) {
    case 'type':
      return column.type === 'integer'
        ? 'values must be whole numbers'
        : column.type === 'timestamp'
          ? 'values must be ISO 8601 timestamps'
          : column.type === 'boolean'
            ? 'values must be true/false (or 1/0)'
            : column.type === 'number'
              ? 'values must be finite decimal numbers'
              : `values must be ${column.type === 'category' ? 'strings (categories)' : 'strings'}`;
    case 'nullable':
      return 'values must not be empty (the column is not nullable)';
    case 'min':
      return `values must be >= ${column.min}`;
    case 'max':
      return `values must be <= ${column.max}`;
    case 'allowedValues':
      return `values must be one of ${column.allowedValues!.map((value) => JSON.stringify(value)).join(', ')}`;
    case 'regex':
      return `values must match /${column.regex}/`;
    case 'unique':
      return 'values must not repeat';
  }
}

function clip(text: string): string {
  return text.length > MAX_TEXT_LENGTH ? `${text.slice(0, MAX_TEXT_LENGTH)}…` : text;
}

/** Codes' allowedValues/regex outcome, cached per dictionary code: bit 1 not allowed, bit 2 no regex match. */
const NOT_ALLOWED = 1;
const NO_MATCH = 2;
const UNCHECKED = 255;

class ColumnState {
  readonly tallies = new Map<ColumnRule, Tally>();
  readonly spec: ColumnSpec;
  readonly numericProfiler: NumericColumnProfiler | undefined;
  readonly categoricalProfiler: CategoricalColumnProfiler | undefined;
  private readonly allowed: Set<string> | undefined;
  private readonly regex: RegExp | undefined;
  private codeOutcomes = new Uint8Array(64).fill(UNCHECKED);
  readonly uniqueness: UniquenessCheck | undefined;
  present = false;

  constructor(
    readonly checks: ColumnChecks,
    required: boolean,
    edges: readonly number[] | undefined,
  ) {
    const { config } = checks;
    this.spec = {
      name: config.name,
      type: config.type,
      required,
      // Bounded: beyond the profile's category cap, values get per-batch codes (see ColumnDictionary).
      dictionary: new ColumnDictionary(config.type === 'boolean' ? BOOLEAN_VALUES : [], MAX_TRACKED_CATEGORIES, MAX_CATEGORY_LENGTH),
    };
    this.uniqueness = config.unique ? new UniquenessCheck() : undefined;
    for (const rule of checks.rules) this.tallies.set(rule, { violations: 0, examples: [], message: ruleMessage(rule, config) });
    if (isNumericType(config.type)) this.numericProfiler = new NumericColumnProfiler(edges);
    else this.categoricalProfiler = new CategoricalColumnProfiler();
    this.allowed = config.allowedValues ? new Set(config.allowedValues) : undefined;
    this.regex = config.regex !== undefined ? new RegExp(config.regex, 'u') : undefined;
  }

  /** Outcome bits for a dictionary code, computed once per permanent code (every time for a transient one). */
  codeOutcome(code: number): number {
    const dictionary = this.spec.dictionary;
    if (dictionary.isTransient(code)) return this.outcomeOf(dictionary.valueOf(code));
    if (code >= this.codeOutcomes.length) {
      const grown = new Uint8Array(Math.max(this.codeOutcomes.length * 2, code + 1)).fill(UNCHECKED);
      grown.set(this.codeOutcomes);
      this.codeOutcomes = grown;
    }
    let outcome = this.codeOutcomes[code]!;
    if (outcome === UNCHECKED) {
      outcome = this.outcomeOf(dictionary.valueOf(code));
      this.codeOutcomes[code] = outcome;
    }
    return outcome;
  }

  private outcomeOf(value: string): number {
    let outcome = 0;
    if (this.allowed && !this.allowed.has(value)) outcome |= NOT_ALLOWED;
    if (this.regex && !this.regex.test(value)) outcome |= NO_MATCH;
    return outcome;
  }
}

export interface ValidatorOptions {
  /** Numeric columns are binned with this profile's edges (drift needs both profiles on the same bins). */
  readonly referenceProfile?: DatasetProfile;
  /** Receives every batch with its bad rows flagged, to split the valid ones (the training pipeline's runs). */
  readonly onValidatedBatch?: (batch: ColumnBatch, bad: Uint8Array) => void;
  /** Quarantine cap, default MAX_QUARANTINED_ROWS. */
  readonly maxQuarantinedRows?: number;
}

export interface ValidationOutcome {
  readonly profile: DatasetProfile;
  readonly report: ValidationReport;
  readonly quarantine: QuarantinedRow[];
}

/**
 * Validates and profiles one dataset (one object, all objects of a prefix, or one shard):
 * feed it the readers' batches object by object, then `finish`.
 */
export class DatasetValidator {
  readonly specs: ColumnSpec[];
  private readonly columns: ColumnState[];
  private readonly rowShape: Tally = { violations: 0, examples: [], message: 'rows must have the header\u2019s fields' };
  private rowCount = 0;
  private badRowCount = 0;
  private objects = 0;
  private readonly quarantine: QuarantinedRow[] = [];
  private readonly maxQuarantinedRows: number;
  private readonly onValidatedBatch?: ValidatorOptions['onValidatedBatch'];
  private badRows = new Uint8Array(1024);

  constructor(
    readonly schema: DatasetSchema,
    options: ValidatorOptions = {},
  ) {
    this.maxQuarantinedRows = options.maxQuarantinedRows ?? MAX_QUARANTINED_ROWS;
    this.onValidatedBatch = options.onValidatedBatch;
    this.columns = schema.columns.map((config) => {
      const reference = options.referenceProfile?.columns[config.name];
      if (options.referenceProfile && reference === undefined) {
        throw new ValidationError(`the reference profile has no column "${config.name}"; it was made for another schema`, {
          column: config.name,
        });
      }
      const numeric = isNumericType(config.type);
      if (reference && (reference.kind === 'numeric') !== numeric) {
        throw new ValidationError(`the reference profile's column "${config.name}" is ${reference.kind}, the schema says ${config.type}`, {
          column: config.name,
        });
      }
      const edges = reference?.kind === 'numeric' ? reference.histogram.edges : undefined;
      // The target may be absent from unlabelled data; the targetPresent rule reports it.
      return new ColumnState({ config, rules: rulesOf(config) }, config.name !== schema.target, edges);
    });
    this.specs = this.columns.map((column) => column.spec);
  }

  /** Marks the start of another object of the dataset (row numbers restart at 1 in each). */
  startObject(): void {
    this.objects++;
  }

  addBatch(batch: ColumnBatch, object: string): void {
    const rowCount = batch.rowCount;
    if (this.badRows.length < rowCount) this.badRows = new Uint8Array(rowCount);
    const bad = this.badRows;
    bad.fill(0, 0, rowCount);
    const reasons = new Map<number, string[]>();
    const wantReasons = this.quarantine.length < this.maxQuarantinedRows;
    const flag = (row: number, reason: string) => {
      bad[row] = 1;
      if (wantReasons) {
        const list = reasons.get(row);
        if (list) list.push(reason);
        else reasons.set(row, [reason]);
      }
    };
    for (const problem of batch.rowProblems) {
      this.rowShape.violations++;
      if (this.rowShape.examples.length < MAX_EXAMPLES_PER_RULE) {
        this.rowShape.examples.push({ object, row: batch.firstRowNumber + problem.index, value: clip(problem.message) });
      }
      flag(problem.index, `row ${problem.message}`);
    }
    this.columns.forEach((column, index) => {
      const vector = batch.columns[index];
      if (!vector) return;
      column.present = true;
      this.checkColumn(column, index, vector, batch, object, flag);
      if (vector.kind === 'numeric') column.numericProfiler!.addBatch(vector.values, vector.states, rowCount);
      else column.categoricalProfiler!.addBatch(vector.codes, vector.states, rowCount, column.spec.dictionary);
    });
    this.onValidatedBatch?.(batch, bad);
    for (let row = 0; row < rowCount; row++) {
      if (bad[row] === 0) continue;
      this.badRowCount++;
      if (this.quarantine.length < this.maxQuarantinedRows) {
        this.quarantine.push({
          object,
          row: batch.firstRowNumber + row,
          reasons: reasons.get(row) ?? [],
          text: clip(batch.rowText(row)),
        });
      }
    }
    this.rowCount += rowCount;
  }

  private checkColumn(
    column: ColumnState,
    index: number,
    vector: ColumnVector,
    batch: ColumnBatch,
    object: string,
    flag: (row: number, reason: string) => void,
  ): void {
    const { config } = column.checks;
    const name = config.name;
    const violate = (rule: ColumnRule, row: number) => {
      const tally = column.tallies.get(rule)!;
      tally.violations++;
      if (tally.examples.length < MAX_EXAMPLES_PER_RULE) {
        tally.examples.push({ object, row: batch.firstRowNumber + row, value: clip(batch.cellText(index, row)) });
      }
      flag(row, `${name}: ${rule}`);
    };
    const states = vector.states;
    const rowCount = batch.rowCount;
    const nullable = config.nullable;
    if (vector.kind === 'numeric') {
      const values = vector.values;
      const integer = config.type === 'integer';
      const min = config.min ?? Number.NEGATIVE_INFINITY;
      const max = config.max ?? Number.POSITIVE_INFINITY;
      const unique = config.unique;
      for (let row = 0; row < rowCount; row++) {
        const state = states[row];
        if (state === CELL_VALUE) {
          const value = values[row]!;
          if (integer && !Number.isSafeInteger(value)) violate('type', row);
          if (value < min) violate('min', row);
          if (value > max) violate('max', row);
          if (unique && column.uniqueness!.repeatedNumber(value)) violate('unique', row);
        } else if (state === CELL_NULL) {
          if (!nullable) violate('nullable', row);
        } else if (state === CELL_INVALID) {
          violate('type', row);
        }
      }
      return;
    }
    const codes = vector.codes;
    const checksValues = config.allowedValues !== undefined || config.regex !== undefined;
    const unique = config.unique;
    for (let row = 0; row < rowCount; row++) {
      const state = states[row];
      if (state === CELL_VALUE) {
        const code = codes[row]!;
        if (checksValues) {
          const outcome = column.codeOutcome(code);
          if (outcome & NOT_ALLOWED) violate('allowedValues', row);
          if (outcome & NO_MATCH) violate('regex', row);
        }
        if (unique && column.uniqueness!.repeatedCode(code, column.spec.dictionary)) violate('unique', row);
      } else if (state === CELL_NULL) {
        if (!nullable) violate('nullable', row);
      } else if (state === CELL_INVALID) {
        violate('type', row);
      }
    }
  }

  /** The profile, the report (with the holdout-size rule when the rows were split) and the quarantined rows. */
  finish(datasetUri: string, split?: SplitCheck): ValidationOutcome {
    const columns: Record<string, ColumnProfile> = {};
    for (const column of this.columns) {
      columns[column.spec.name] = column.numericProfiler
        ? column.numericProfiler.finish()
        : column.categoricalProfiler!.finish(column.spec.dictionary.values);
    }
    const profile: DatasetProfile = { formatVersion: PROFILE_FORMAT_VERSION, rowCount: this.rowCount, columns };
    const targetPresent = this.columns.find((column) => column.spec.name === this.schema.target)?.present ?? false;
    // Repeats the HyperLogLog found beyond the exact set count as bad rows too, though no row can be named.
    let unattributedBadRows = 0;
    for (const column of this.columns) {
      const repeats = column.uniqueness?.unattributedRepeats() ?? 0;
      if (repeats === 0) continue;
      const tally = column.tallies.get('unique')!;
      tally.violations += repeats;
      tally.message = `${ruleMessage('unique', column.checks.config)} (about ${repeats} repeats beyond the first ${EXACT_UNIQUE_VALUES} distinct values were estimated by HyperLogLog, not attributed to rows)`;
      unattributedBadRows = Math.max(unattributedBadRows, repeats);
    }
    const tallies: ShardTallies = {
      rowCount: this.rowCount,
      badRowCount: Math.min(this.rowCount, this.badRowCount + unattributedBadRows),
      objects: this.objects,
      targetPresent: targetPresent || this.rowCount === 0,
      rowShape: this.rowShape,
      columns: this.columns.map((column) => ({
        name: column.spec.name,
        tallies: [...column.tallies].map(([rule, tally]) => ({ rule, ...tally })),
      })),
    };
    const report = buildReport(this.schema, datasetUri, tallies, this.quarantine.length, [], split);
    return { profile, report, quarantine: this.quarantine };
  }
}
