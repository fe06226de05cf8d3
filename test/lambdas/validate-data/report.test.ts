/**
 * The failure reason a failed validation hands the pipeline (it becomes the execution's cause):
 * the deciding dataset rules first, then the column rules most broken first, each with its count
 * and examples, bounded in length whatever the report holds.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COLUMN_RULES,
  failureReasonOf,
  MAX_REASON_LENGTH,
  MAX_REASON_RULES,
  REPORT_FORMAT_VERSION,
  type RuleResult,
  type ValidationReport,
} from '../../../lambdas/validate-data/report';

function report(rules: RuleResult[], valid = false): ValidationReport {
  return {
    formatVersion: REPORT_FORMAT_VERSION,
    model: 'churn',
    datasetUri: 's3://datasets/churn/x.csv',
    objects: 1,
    valid,
    rowCount: 1000,
    badRowCount: 300,
    badRowFraction: 0.3,
    rules,
    quarantinedRows: 300,
    notes: [],
  };
}

const columnRule = (column: string, violations: number, values: string[] = []): RuleResult => ({
  rule: 'max',
  column,
  passed: violations === 0,
  violations,
  message: 'values must be <= 120',
  examples: values.map((value, index) => ({ object: 'churn/x.csv', row: index + 2, value })),
});

describe('failureReasonOf', () => {
  it('is null for a valid dataset', () => {
    expect(failureReasonOf(report([columnRule('tenure', 0)], true))).toBeNull();
  });

  it('names the deciding rule, then the column rules most broken first, one a line, with counts and two examples each', () => {
    const reason = failureReasonOf(
      report([
        columnRule('tenure', 3, ['500', '-1', '900']),
        columnRule('charges', 250, ['1e9']),
        columnRule('contract', 3, ['weekly']),
        { rule: 'maxBadRowFraction', passed: false, violations: 1, message: 'allows at most 1% bad rows, has 30%', examples: [] },
      ]),
    );
    expect(reason).toBe(
      [
        'maxBadRowFraction: allows at most 1% bad rows, has 30%',
        'charges max: values must be <= 120 in 250 rows (e.g. row 2: "1e9")',
        'tenure max: values must be <= 120 in 3 rows (e.g. row 2: "500"; row 3: "-1")',
        'contract max: values must be <= 120 in 3 rows (e.g. row 2: "weekly")',
      ].join(';\n'),
    );
  });

  it(`stays within ${MAX_REASON_LENGTH} characters and ${MAX_REASON_RULES} rules, saying how many more the report holds`, () => {
    fc.assert(
      fc.property(
        // size 'max': fast-check 4 otherwise caps strings and arrays at 10 whatever maxLength says,
        // and no reason came near 2,000 characters. A long value in a third of the examples: about
        // half the runs are cut at the limit, a quarter name 8 rules and count the rest.
        fc.array(
          fc.record({
            column: fc.string({ minLength: 1, maxLength: 80, size: 'max' }),
            rule: fc.constantFrom(...COLUMN_RULES),
            violations: fc.integer({ min: 1, max: 1_000_000 }),
            values: fc.array(
              fc.oneof(
                { weight: 2, arbitrary: fc.string({ maxLength: 20 }) },
                { weight: 1, arbitrary: fc.string({ maxLength: 500, size: 'max' }) },
              ),
              { maxLength: 20 },
            ),
          }),
          { minLength: 1, maxLength: 40, size: 'max' },
        ),
        (rules) => {
          const reason = failureReasonOf(
            report(rules.map((rule) => ({ ...columnRule(rule.column, rule.violations, rule.values), rule: rule.rule }))),
          )!;
          expect(reason.length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
          // One rule a line (no column or quoted value holds ";\n"), the count of the others last.
          const lines = reason.split(';\n');
          expect(lines.length).toBeLessThanOrEqual(MAX_REASON_RULES + 1);
          if (reason.length < MAX_REASON_LENGTH) {
            expect(lines).toHaveLength(Math.min(rules.length, MAX_REASON_RULES) + (rules.length > MAX_REASON_RULES ? 1 : 0));
            if (rules.length > MAX_REASON_RULES)
              expect(lines.at(-1)).toBe(`and ${rules.length - MAX_REASON_RULES} more rules (see the report)`);
          } else {
            expect(reason.endsWith('…')).toBe(true);
          }
        },
      ),
      // Shrinking hundreds of long strings took minutes on a failure: report the first one as drawn.
      { endOnFailure: true },
    );
  });
});

describe('failureReasonOf, at the figures docs/pipeline.md states', () => {
  it('names 8 failed column rules and counts the rest ("and N more rules")', () => {
    const rules = Array.from({ length: 11 }, (_, i) => columnRule(`c${i}`, 100 - i));
    const lines = failureReasonOf(report(rules))!.split(';\n');
    expect(lines).toHaveLength(9);
    expect(lines.slice(0, 8).map((line) => line.split(' ')[0])).toEqual(['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7']);
    expect(lines[8]).toBe('and 3 more rules (see the report)');
  });

  it('cuts the reason at 2,000 characters, an ellipsis last', () => {
    const long = (i: number) => columnRule(`column_${i}_${'x'.repeat(120)}`, 10, ['v'.repeat(300), 'w'.repeat(300)]);
    const reason = failureReasonOf(report(Array.from({ length: 8 }, (_, i) => long(i))))!;
    expect(reason).toHaveLength(2000);
    expect(reason.endsWith('…')).toBe(true);
  });
});
