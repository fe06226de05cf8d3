/**
 * The validation report: every rule checked with its violations and examples, the dataset rules
 * applied to the totals (row counts, bad-row share, target present), and the merge of shard
 * reports into one (the Distributed Map's merge mode). A dataset that breaks the rules is a
 * report with `valid: false`, never an exception.
 */
import { createHash } from 'node:crypto';
import type { DatasetSchema } from '../../contracts/dataset';
import type { TrainingRanges } from '../../contracts/serving-schema';
import { ValidationError } from '../shared/errors';
import type { DatasetProfile } from '../shared/profile/profile';
import { mergeProfiles } from '../shared/profile/profilers';
import { type SplitOutcome, type SplitStats, sortedValues } from './split';

export const REPORT_FORMAT_VERSION = 1;
/** Example rows kept per rule in the report. */
export const MAX_EXAMPLES_PER_RULE = 20;
/** Bad rows written to the quarantine object; the rest are counted. */
export const MAX_QUARANTINED_ROWS = 10_000;
/** Example values and quarantined row texts are cut to this many characters. */
export const MAX_TEXT_LENGTH = 500;

export const COLUMN_RULES = ['type', 'nullable', 'min', 'max', 'allowedValues', 'regex', 'unique'] as const;
export type ColumnRule = (typeof COLUMN_RULES)[number];
export const DATASET_RULES = ['rowShape', 'targetPresent', 'minRows', 'maxRows', 'maxBadRowFraction', 'holdoutSize'] as const;
export type DatasetRule = (typeof DATASET_RULES)[number];

export interface RuleExample {
  /** The dataset object (key) the row is in. */
  readonly object: string;
  /** 1-based data row number within the object, header excluded. */
  readonly row: number;
  readonly value: string;
}

export interface RuleResult {
  readonly rule: ColumnRule | DatasetRule;
  /** Absent for dataset rules. */
  readonly column?: string;
  readonly passed: boolean;
  /** Cells (column rules) or rows (rowShape) breaking the rule; for dataset rules, 1 when failed. */
  readonly violations: number;
  readonly message: string;
  readonly examples: RuleExample[];
}

export interface QuarantinedRow {
  readonly object: string;
  readonly row: number;
  readonly reasons: string[];
  readonly text: string;
}

export interface ValidationReport {
  readonly formatVersion: typeof REPORT_FORMAT_VERSION;
  readonly model: string;
  readonly datasetUri: string;
  readonly objects: number;
  readonly valid: boolean;
  readonly rowCount: number;
  readonly badRowCount: number;
  readonly badRowFraction: number;
  /** Every rule checked, passed or not: column rules in schema order, then the dataset rules. */
  readonly rules: RuleResult[];
  /** Rows written to the quarantine object (at most MAX_QUARANTINED_ROWS) of badRowCount. */
  readonly quarantinedRows: number;
  /** Caveats a reader of the report should know (e.g. uniqueness checked per shard). */
  readonly notes: string[];
  /** How the valid rows were split for training (training pipeline runs only). */
  readonly split?: SplitOutcome;
}

/** What the holdout-size rule needs: the split's counts and the gate's minimum. */
export interface SplitCheck {
  readonly outcome: SplitOutcome;
  readonly minHoldoutRows: number;
  readonly classification: boolean;
  /** The model's class labels as text, so a class absent from the data is reported too. */
  readonly classLabels?: readonly string[];
}

export interface Tally {
  violations: number;
  examples: RuleExample[];
  message: string;
}

export interface ShardTallies {
  rowCount: number;
  badRowCount: number;
  objects: number;
  targetPresent: boolean;
  rowShape: Tally;
  columns: { name: string; tallies: (Tally & { rule: ColumnRule })[] }[];
}

export function buildReport(
  schema: DatasetSchema,
  datasetUri: string,
  tallies: ShardTallies,
  quarantinedRows: number,
  notes: string[],
  split?: SplitCheck,
): ValidationReport {
  const rules: RuleResult[] = [];
  for (const column of tallies.columns) {
    for (const tally of column.tallies) {
      rules.push({
        rule: tally.rule,
        column: column.name,
        passed: tally.violations === 0,
        violations: tally.violations,
        message: tally.message,
        examples: tally.examples,
      });
    }
  }
  const { rowCount, badRowCount } = tallies;
  const badRowFraction = rowCount === 0 ? 0 : badRowCount / rowCount;
  const datasetRules = schema.dataset;
  const datasetRule = (rule: DatasetRule, passed: boolean, message: string, violations = passed ? 0 : 1, examples: RuleExample[] = []) =>
    rules.push({ rule, passed, violations, message, examples });
  datasetRule(
    'rowShape',
    tallies.rowShape.violations === 0,
    tallies.rowShape.message,
    tallies.rowShape.violations,
    tallies.rowShape.examples,
  );
  if (datasetRules.requireTarget) {
    datasetRule(
      'targetPresent',
      tallies.targetPresent,
      tallies.targetPresent
        ? `the target column "${schema.target}" is present`
        : `the target column "${schema.target}" is missing from the data`,
    );
  }
  datasetRule('minRows', rowCount >= datasetRules.minRows, `needs at least ${datasetRules.minRows} rows, has ${rowCount}`);
  if (datasetRules.maxRows !== undefined)
    datasetRule('maxRows', rowCount <= datasetRules.maxRows, `allows at most ${datasetRules.maxRows} rows, has ${rowCount}`);
  datasetRule(
    'maxBadRowFraction',
    badRowFraction <= datasetRules.maxBadRowFraction,
    `allows at most ${formatShare(datasetRules.maxBadRowFraction)} bad rows, has ${formatShare(badRowFraction)} (${badRowCount} of ${rowCount})`,
  );
  const holdout = split?.outcome.holdout;
  if (split && holdout) {
    const short = holdoutShortfall(holdout, split);
    datasetRule(
      'holdoutSize',
      short.length === 0,
      short.length === 0
        ? `the holdout holds ${holdout.rows} rows (at least ${split.minHoldoutRows}${split.classification ? ' per class' : ''})`
        : `the holdout would hold ${short.join(', ')}; the evaluation gate needs at least ${split.minHoldoutRows}${split.classification ? ' per class' : ''} to judge a model (holdoutFraction ${split.outcome.holdoutFraction} of ${rowCount} row${rowCount === 1 ? '' : 's'}): add rows, raise split.holdoutFraction, lower thresholds.minHoldoutRows, or pass a holdoutUri`,
    );
  }
  // Column-rule violations count against the bad-row share; the dataset rules decide validity.
  const valid = rules.filter((rule) => rule.column === undefined && rule.rule !== 'rowShape').every((rule) => rule.passed);
  return {
    formatVersion: REPORT_FORMAT_VERSION,
    model: schema.name,
    datasetUri,
    objects: tallies.objects,
    valid,
    rowCount,
    badRowCount,
    badRowFraction,
    rules,
    quarantinedRows,
    notes,
    ...(split ? { split: split.outcome } : {}),
  };
}

/** The classes (or the whole holdout) below the minimum, as "2 rows of class \"1\"". */
function holdoutShortfall(holdout: NonNullable<SplitOutcome['holdout']>, split: SplitCheck): string[] {
  if (!split.classification) return holdout.rows < split.minHoldoutRows ? [`${holdout.rows} rows`] : [];
  const classes = new Set([
    ...(split.classLabels ?? []),
    ...Object.keys(split.outcome.train.classes ?? {}),
    ...Object.keys(holdout.classes ?? {}),
  ]);
  if (classes.size === 0) return [`${holdout.rows} rows`];
  return [...classes]
    .sort()
    .map((label) => [label, holdout.classes?.[label] ?? 0] as const)
    .filter(([, count]) => count < split.minHoldoutRows)
    .map(([label, count]) => `${count} row${count === 1 ? '' : 's'} of class "${label}"`);
}

function formatShare(fraction: number): string {
  return `${Number((fraction * 100).toPrecision(4))}%`;
}

/**
 * Merge mode: combines shard profiles (which must share reference edges) and shard reports, then
 * applies the dataset rules to the totals. Uniqueness is only known per shard: noted in the report.
 */
export function mergeShards(
  schema: DatasetSchema,
  datasetUri: string,
  shards: readonly { profile: DatasetProfile; report: ValidationReport }[],
  splitRules?: Omit<SplitCheck, 'outcome'>,
): { profile: DatasetProfile; report: ValidationReport } {
  if (shards.length === 0) throw new ValidationError('merge mode found no shard profiles; run the shard mode over every object first');
  const profile = shards.map((shard) => shard.profile).reduce(mergeProfiles);
  const byRule = new Map<string, Tally & { rule: ColumnRule; column: string }>();
  const rowShape: Tally = { violations: 0, examples: [], message: '' };
  let targetPresent = true;
  let quarantinedRows = 0;
  for (const { report } of shards) {
    quarantinedRows += report.quarantinedRows;
    for (const result of report.rules) {
      if (result.column !== undefined) {
        const key = `${result.column}\u0000${result.rule}`;
        const tally = byRule.get(key) ?? {
          rule: result.rule as ColumnRule,
          column: result.column,
          violations: 0,
          examples: [],
          message: result.message,
        };
        tally.violations += result.violations;
        tally.examples.push(...result.examples);
        byRule.set(key, tally);
      } else if (result.rule === 'rowShape') {
        rowShape.message = result.message;
        rowShape.violations += result.violations;
        rowShape.examples.push(...result.examples);
      } else if (result.rule === 'targetPresent' && !result.passed) {
        targetPresent = false;
      }
    }
  }
  const byExample = (a: RuleExample, b: RuleExample) => (a.object < b.object ? -1 : a.object > b.object ? 1 : a.row - b.row);
  const trim = (tally: Tally) => {
    tally.examples = tally.examples.sort(byExample).slice(0, MAX_EXAMPLES_PER_RULE);
  };
  trim(rowShape);
  const columns = schema.columns.map((column) => ({
    name: column.name,
    tallies: [...byRule.values()]
      .filter((tally) => tally.column === column.name)
      .map((tally) => {
        trim(tally);
        return { rule: tally.rule, violations: tally.violations, examples: tally.examples, message: tally.message };
      }),
  }));
  const tallies: ShardTallies = {
    rowCount: shards.reduce((total, shard) => total + shard.report.rowCount, 0),
    badRowCount: shards.reduce((total, shard) => total + shard.report.badRowCount, 0),
    objects: shards.reduce((total, shard) => total + shard.report.objects, 0),
    targetPresent,
    rowShape,
    columns,
  };
  const notes = schema.columns.some((column) => column.unique) ? ['uniqueness was checked within each shard, not across shards'] : [];
  const splits = shards.map((shard) => shard.report.split).filter((split): split is SplitOutcome => split !== undefined);
  const allowedValues = Object.fromEntries(schema.columns.map((column) => [column.name, column.allowedValues]));
  const split =
    splitRules && splits.length === shards.length ? { ...splitRules, outcome: mergeSplitOutcomes(splits, allowedValues) } : undefined;
  return { profile, report: buildReport(schema, datasetUri, tallies, quarantinedRows, notes, split) };
}

/** The split of the whole dataset from its shards' splits: counts and class counts add up, hashes chain in shard order. */
export function mergeSplitOutcomes(
  splits: readonly SplitOutcome[],
  allowedValues: Readonly<Record<string, readonly string[] | undefined>> = {},
): SplitOutcome {
  const merge = (parts: readonly SplitStats[]): SplitStats => {
    const classes: Record<string, number> = {};
    for (const part of parts)
      for (const [label, count] of Object.entries(part.classes ?? {})) classes[label] = (classes[label] ?? 0) + count;
    const hash = createHash('sha256');
    for (const part of parts) hash.update(part.sha256);
    return {
      rows: parts.reduce((total, part) => total + part.rows, 0),
      sha256: hash.digest('hex'),
      ...(parts.some((part) => part.classes)
        ? { classes: Object.fromEntries(Object.entries(classes).sort(([a], [b]) => a.localeCompare(b))) }
        : {}),
    };
  };
  const [first] = splits;
  const holdouts = splits.map((split) => split.holdout).filter((holdout): holdout is SplitStats => holdout !== undefined);
  const ranges = splits.map((split) => split.trainingRanges).filter((range): range is TrainingRanges => range !== undefined);
  const { trainingRanges: _first, ...rest } = first!;
  return {
    ...rest,
    unlabelledRows: splits.reduce((total, split) => total + split.unlabelledRows, 0),
    train: merge(splits.map((split) => split.train)),
    validation: merge(splits.map((split) => split.validation)),
    ...(holdouts.length > 0 ? { holdout: merge(holdouts) } : {}),
    ...(ranges.length > 0 ? { trainingRanges: mergeTrainingRanges(ranges, allowedValues) } : {}),
  };
}

/** The ranges of the whole training split from its shards': the widest min/max, every value seen. */
export function mergeTrainingRanges(
  shards: readonly TrainingRanges[],
  allowedValues: Readonly<Record<string, readonly string[] | undefined>> = {},
): TrainingRanges {
  const merged: TrainingRanges = {};
  for (const shard of shards) {
    for (const [feature, range] of Object.entries(shard)) {
      const known = merged[feature];
      if ('min' in range) {
        merged[feature] = known && 'min' in known ? { min: Math.min(known.min, range.min), max: Math.max(known.max, range.max) } : range;
      } else {
        const values = known && 'values' in known ? [...known.values, ...range.values] : range.values;
        merged[feature] = { values: sortedValues(values, allowedValues[feature]) };
      }
    }
  }
  return Object.fromEntries(Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The failure's reason in words, at most this long (it travels in the execution's cause, at most 32,768 characters, and the alert). */
export const MAX_REASON_LENGTH = 2000;
/** Failed rules named in the reason; the report lists them all. */
export const MAX_REASON_RULES = 8;
/** Examples quoted per rule. */
const MAX_REASON_EXAMPLES = 2;

/**
 * Why a dataset failed, for the person who started the run: the dataset rules that decided it,
 * then the column rules, most broken first, with their counts and a few examples (object — when
 * the dataset has several —, row, value), one rule a line. Null when valid.
 */
export function failureReasonOf(report: ValidationReport): string | null {
  if (report.valid) return null;
  const failed = report.rules.filter((rule) => !rule.passed);
  // The dataset rules decide validity: name them first, then the column rules behind the bad rows (a stable sort keeps schema order among equals).
  const columnRules = failed.filter((rule) => rule.column !== undefined).sort((a, b) => b.violations - a.violations);
  const ordered = [...failed.filter((rule) => rule.column === undefined), ...columnRules];
  const parts = ordered.slice(0, MAX_REASON_RULES).map((rule) => {
    const examples = rule.examples
      .slice(0, MAX_REASON_EXAMPLES)
      .map((example) => `${report.objects > 1 ? `${example.object} ` : ''}row ${example.row}: ${JSON.stringify(example.value)}`)
      .join('; ');
    const subject = rule.column === undefined ? rule.rule : `${rule.column} ${rule.rule}`;
    const count =
      rule.column === undefined && rule.rule !== 'rowShape' ? '' : ` in ${rule.violations} row${rule.violations === 1 ? '' : 's'}`;
    return `${subject}: ${rule.message}${count}${examples ? ` (e.g. ${examples})` : ''}`;
  });
  const more = ordered.length > MAX_REASON_RULES ? `;\nand ${ordered.length - MAX_REASON_RULES} more rules (see the report)` : '';
  const text = `${parts.join(';\n')}${more}`;
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 1)}…` : text;
}
