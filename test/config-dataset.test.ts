import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { datasetSchemaSchema } from '../contracts/dataset';
import { ConfigError, parseConfig } from '../contracts/platform-config';

const defaults = JSON.parse(readFileSync(new URL('../cdk.json', import.meta.url), 'utf8')).context.mlops;

/** The cdk.json default with the first model's first column and dataset rules replaced. */
function withModel(change: { column?: Record<string, unknown>; dataset?: Record<string, unknown> }): unknown {
  const config = structuredClone(defaults);
  const model = config.models[0];
  if (change.column) model.columns[0] = { ...model.columns[0], ...change.column };
  if (change.dataset) model.dataset = change.dataset;
  return config;
}

function issuesOf(raw: unknown): string[] {
  try {
    parseConfig(raw);
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  return [];
}

describe('dataset schema in the model configuration', () => {
  it('defaults the dataset rules to at least one row, at most 1% bad rows and a required target', () => {
    const model = parseConfig(defaults).models[0]!;
    expect(model.dataset).toEqual({ minRows: 1, maxBadRowFraction: 0.01, requireTarget: true });
    expect(model.columns[0]).toMatchObject({ unique: false });
  });

  it('takes the CSV delimiter of the dataset, one ASCII character other than a quote or a line break', () => {
    expect(parseConfig(withModel({ dataset: { delimiter: ';' } })).models[0]!.dataset.delimiter).toBe(';');
    expect(parseConfig(withModel({ dataset: { delimiter: '\t' } })).models[0]!.dataset.delimiter).toBe('\t');
    for (const delimiter of [';;', '', '"', '\n', '§']) {
      expect(issuesOf(withModel({ dataset: { delimiter } })).join('\n'), JSON.stringify(delimiter)).toMatch(
        /mlops\.models\[0\]\.dataset\.delimiter: must be (one character|one ASCII character other than a quote or a line break)/,
      );
    }
  });

  it('accepts a regex and uniqueness on a string column', () => {
    const model = parseConfig(withModel({ column: { regex: '^C[0-9]{6}$', unique: true } })).models[0]!;
    expect(model.columns[0]).toMatchObject({ regex: '^C[0-9]{6}$', unique: true });
  });

  it('rejects a regex that does not compile, quoting the engine message', () => {
    expect(issuesOf(withModel({ column: { regex: '([a-z' } }))).toEqual([
      expect.stringMatching(/^mlops\.models\[0\]\.columns\[0\]\.regex: is not a valid regular expression \(.+\)/),
    ]);
  });

  it('rejects a regex on a numeric column', () => {
    const config = withModel({});
    (config as typeof defaults).models[0].columns[1].regex = '^[0-9]+$';
    expect(issuesOf(config)).toEqual([
      expect.stringMatching(/^mlops\.models\[0\]\.columns\[1\]\.regex: regex applies to category and string columns, not integer/),
    ]);
  });

  it('rejects minRows above maxRows', () => {
    expect(issuesOf(withModel({ dataset: { minRows: 100, maxRows: 10 } }))).toEqual([
      'mlops.models[0].dataset.minRows: must not exceed maxRows (10) (got 100)',
    ]);
  });

  it('rejects a bad-row fraction outside 0..1', () => {
    expect(issuesOf(withModel({ dataset: { maxBadRowFraction: 1.5 } }))).toEqual([
      expect.stringMatching(/^mlops\.models\[0\]\.dataset\.maxBadRowFraction: Too big: expected number to be <=1 \(got 1\.5\)/),
    ]);
  });

  it('rejects an unknown dataset rule by name', () => {
    expect(issuesOf(withModel({ dataset: { minimumRows: 5 } }))).toEqual([
      expect.stringMatching(/dataset: Unrecognized key: "minimumRows"/),
    ]);
  });
});

describe('the validate-data view of a model', () => {
  it('accepts a whole model configuration and keeps only what validation needs', () => {
    const schema = datasetSchemaSchema.parse(parseConfig(defaults).models[0]);
    expect(Object.keys(schema).sort()).toEqual(['columns', 'dataset', 'name', 'target']);
    expect(schema.target).toBe('churned');
  });

  it('rejects a target that is not one of the columns', () => {
    const result = datasetSchemaSchema.safeParse({ name: 'm', columns: [{ name: 'a', type: 'number' }], target: 'b' });
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]).toMatchObject({ path: ['target'], message: 'must name one of the columns (a), got "b"' });
  });
});
