/**
 * A dataset column as the configuration declares it: its type and the rules every value must
 * keep (nullability, range, allowed values, pattern, uniqueness), and whether its drift alone
 * marks the dataset drifted. validate-data checks the rules, the serving contract encodes the
 * columns a model takes, check-drift compares them.
 */
import * as z from 'zod';

export const COLUMN_TYPES = ['number', 'integer', 'boolean', 'string', 'category', 'timestamp'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

/** Number, integer and timestamp columns are profiled as numbers (timestamps as epoch milliseconds). */
export function isNumericType(type: ColumnType): boolean {
  return type === 'number' || type === 'integer' || type === 'timestamp';
}

export const columnSchema = z
  .object({
    name: z.string().min(1).max(128).describe('the column name, as in the dataset header or JSON key'),
    type: z.enum(COLUMN_TYPES).describe('how values parse; `category` and `string` are text, `timestamp` is ISO 8601'),
    nullable: z.boolean().default(false).describe('empty values are allowed'),
    min: z.number().optional().describe('smallest allowed value (number and integer columns)'),
    max: z.number().optional().describe('largest allowed value (number and integer columns)'),
    allowedValues: z
      .array(z.string())
      .min(1)
      .optional()
      .describe('the only values allowed (category and string columns); a category feature is encoded as the index in this list'),
    regex: z
      .string()
      .min(1)
      .max(1024)
      .optional()
      .describe('a JavaScript regular expression every value must match (anchor it with ^…$ for the whole value)'),
    unique: z.boolean().default(false).describe('no two rows may hold the same value (nulls excepted)'),
    critical: z.boolean().default(false).describe('a drifted critical feature marks the whole dataset as drifted'),
  })
  .strict()
  .superRefine((column, ctx) => {
    if (column.regex !== undefined) {
      if (column.type !== 'category' && column.type !== 'string') {
        ctx.addIssue({ code: 'custom', path: ['regex'], message: `regex applies to category and string columns, not ${column.type}` });
      }
      const problem = regexProblem(column.regex);
      if (problem) ctx.addIssue({ code: 'custom', path: ['regex'], message: `is not a valid regular expression (${problem})` });
    }
    if (column.min !== undefined && column.max !== undefined && column.min > column.max) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `must not exceed max (${column.max})` });
    }
    const numeric = column.type === 'number' || column.type === 'integer';
    if (!numeric && (column.min !== undefined || column.max !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['min'], message: `min/max apply to number and integer columns, not ${column.type}` });
    }
    if (column.allowedValues && column.type !== 'category' && column.type !== 'string') {
      ctx.addIssue({
        code: 'custom',
        path: ['allowedValues'],
        message: `allowedValues apply to category and string columns, not ${column.type}`,
      });
    }
  });

export type ColumnConfig = z.output<typeof columnSchema>;

function regexProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern, 'u');
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/** Issues for duplicate column names, at `columns[i].name`. */
export function duplicateColumnIssues(columns: readonly { name: string }[]): { path: PropertyKey[]; message: string }[] {
  const seen = new Set<string>();
  const issues: { path: PropertyKey[]; message: string }[] = [];
  columns.forEach((column, index) => {
    if (seen.has(column.name)) issues.push({ path: ['columns', index, 'name'], message: `duplicate column "${column.name}"` });
    seen.add(column.name);
  });
  return issues;
}
