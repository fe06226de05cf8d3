/**
 * The dataset rules of a model (CSV delimiter, row counts, the bad-row share, the target's presence) and the
 * dataset schema validate-data checks a file against: the model's name, columns, target and
 * those rules, as the pipeline passes them in the model document.
 */
import * as z from 'zod';
import { columnSchema, duplicateColumnIssues } from './columns';
import { fractionSchema, modelNameSchema } from './fields';

/**
 * The field delimiter of a CSV dataset: one ASCII character other than a quote or a line break
 * (the CSV reader's rule). Tab-separated data is `"\t"`.
 */
export const csvDelimiterSchema = z
  .string()
  .length(1, 'must be one character')
  .refine((text) => text.charCodeAt(0) <= 0x7f && !['"', '\n', '\r'].includes(text), {
    message: 'must be one ASCII character other than a quote or a line break',
  });

/** Whole-dataset rules checked by validate-data after every row has been read. */
export const datasetRulesSchema = z
  .object({
    delimiter: csvDelimiterSchema
      .optional()
      .describe(
        'field delimiter of CSV datasets (e.g. ";" or "\\t"); a run may set its own with the pipeline input\'s delimiter. Default: "," (tab for .tsv objects)',
      ),
    minRows: z.number().int().min(0).default(1).describe('fewer data rows than this rejects the dataset'),
    maxRows: z.number().int().min(1).optional().describe('more data rows than this rejects the dataset'),
    maxBadRowFraction: fractionSchema
      .default(0.01)
      .describe('share of rows breaking any column rule (or ragged) above which the dataset is rejected'),
    requireTarget: z
      .boolean()
      .default(true)
      .describe('the target column must be in the data; turn off for unlabelled data such as inference capture'),
  })
  .strict()
  .superRefine((rules, ctx) => {
    if (rules.maxRows !== undefined && rules.minRows > rules.maxRows) {
      ctx.addIssue({ code: 'custom', path: ['minRows'], input: rules.minRows, message: `must not exceed maxRows (${rules.maxRows})` });
    }
  });

export type DatasetRulesConfig = z.output<typeof datasetRulesSchema>;

/** The target must name one of the columns. */
export function targetIssue(columns: readonly { name: string }[], target: string): { path: PropertyKey[]; message: string } | undefined {
  const names = columns.map((column) => column.name);
  return names.includes(target)
    ? undefined
    : { path: ['target'], message: `must name one of the columns (${names.join(', ')}), got "${target}"` };
}

/**
 * What validate-data needs of a model (its `model` event field): name, columns, target and
 * dataset rules. Unknown keys are dropped, so the whole model document is accepted too.
 */
export const datasetSchemaSchema = z
  .object({
    name: modelNameSchema,
    columns: z.array(columnSchema).min(1),
    target: z.string().min(1),
    dataset: datasetRulesSchema.prefault({}),
  })
  .superRefine((schema, ctx) => {
    for (const issue of duplicateColumnIssues(schema.columns)) ctx.addIssue({ code: 'custom', ...issue });
    const target = targetIssue(schema.columns, schema.target);
    if (target) ctx.addIssue({ code: 'custom', ...target });
  });

export type DatasetSchema = z.output<typeof datasetSchemaSchema>;

/**
 * Where the offline runtime's API puts a file `mlops train --data` or `mlops batch --input` uploads
 * from a local path: `<model>/uploads/<sha256>/<file>` of the datasets bucket. Those files are
 * whatever the person trained or scored (a batch input has no labels), so the retraining trigger
 * never takes this folder for a dataset version.
 */
export const LOCAL_UPLOADS_FOLDER = 'uploads';

/** The completion markers a producer writes last into a dataset version's prefix (`<model>/<version>/`). */
export const DATASET_COMPLETION_MARKERS = ['_SUCCESS', 'manifest.json'] as const;

/**
 * Whether an object of a dataset prefix holds rows: markers and hidden files (a name starting with
 * `_` or `.`, as Hadoop and Spark write them) do not, and are left out of validation and the ETag.
 */
export function isDatasetObjectKey(key: string): boolean {
  const name = key.slice(key.lastIndexOf('/') + 1);
  return name !== '' && !name.startsWith('_') && !name.startsWith('.') && !(DATASET_COMPLETION_MARKERS as readonly string[]).includes(name);
}
