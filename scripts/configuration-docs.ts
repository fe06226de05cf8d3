/**
 * Generates docs/configuration.md from the configuration's zod schema (contracts/platform-config.ts):
 * every field with its type, default, limits and description, so the reference cannot drift from
 * the rules `cdk synth` enforces. Usage: npm run docs:config (writes the file); the test in
 * test/docs.test.ts fails when the committed file is stale.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as z from 'zod';
import { DRIFT_DEFAULTS } from '../contracts/drift';
import { API_DEFAULTS, platformConfigSchema } from '../contracts/platform-config';
import { HOURS_PER_MONTH, INSTANCE_HOUR_USD, PRICES_REGION, PRICES_TAKEN, SINGLE_SOURCE_PRICES } from '../contracts/pricing';
import { PROJECT_ROOT } from '../contracts/project-root';
import { SERVING_DEFAULTS } from '../contracts/serving';
import { TRAINING_DEFAULTS } from '../contracts/training';

export const CONFIGURATION_DOC_PATH = path.join(PROJECT_ROOT, 'docs', 'configuration.md');

interface JsonSchema {
  type?: string | string[];
  description?: string;
  default?: unknown;
  enum?: unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema | JsonSchema[];
  prefixItems?: JsonSchema[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
}

/** Platform-wide sections whose field defaults are applied by a transform, so the JSON schema cannot show them. */
const SECTION_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  training: TRAINING_DEFAULTS,
  serving: SERVING_DEFAULTS,
  drift: DRIFT_DEFAULTS,
  api: API_DEFAULTS,
};

/** JavaScript's safe-integer bounds: zod's `int()` adds them; they are no rule worth printing. */
const SAFE_INTEGER = 9_007_199_254_740_991;

interface Row {
  readonly field: string;
  readonly type: string;
  readonly required: boolean;
  readonly defaultValue: string;
  readonly rule: string;
  readonly description: string;
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((value) => `\`${String(value)}\``).join(' \\| ');
  if (schema.const !== undefined) return `\`${String(schema.const)}\``;
  if (schema.anyOf) return schema.anyOf.map(typeOf).join(' \\| ');
  if (schema.oneOf) return [...new Set(schema.oneOf.map(typeOf))].join(' \\| ');
  if (schema.prefixItems) return `[${schema.prefixItems.map(typeOf).join(', ')}]`;
  if (schema.type === 'array') {
    const items = typeOf(schema.items as JsonSchema);
    return items.includes('|') ? `(${items})[]` : `${items}[]`;
  }
  if (schema.type === 'object' && !schema.properties && typeof schema.additionalProperties === 'object') {
    return `map of ${typeOf(schema.additionalProperties)}`;
  }
  if (schema.type === 'object') return 'object';
  if (schema.format === 'email') return 'email';
  return Array.isArray(schema.type) ? schema.type.join(' \\| ') : (schema.type ?? 'any');
}

function ruleOf(schema: JsonSchema): string {
  const rules: string[] = [];
  const low = schema.minimum ?? (schema.exclusiveMinimum === undefined ? undefined : `> ${schema.exclusiveMinimum}`);
  const high = schema.maximum;
  if (typeof low === 'number' && low > -SAFE_INTEGER && high !== undefined && high < SAFE_INTEGER) rules.push(`${low}–${high}`);
  else {
    if (typeof low === 'number' && low > -SAFE_INTEGER) rules.push(`≥ ${low}`);
    if (typeof low === 'string') rules.push(low);
    if (high !== undefined && high < SAFE_INTEGER) rules.push(`≤ ${high}`);
  }
  if (schema.exclusiveMaximum !== undefined) rules.push(`< ${schema.exclusiveMaximum}`);
  if (schema.minLength !== undefined && schema.minLength > 1) rules.push(`≥ ${schema.minLength} characters`);
  if (schema.maxLength !== undefined) rules.push(`≤ ${schema.maxLength} characters`);
  if (schema.minItems !== undefined && schema.minItems > 0 && !schema.prefixItems) rules.push(`≥ ${schema.minItems} items`);
  if (schema.maxItems !== undefined && !schema.prefixItems) rules.push(`≤ ${schema.maxItems} items`);
  if (schema.pattern && schema.format !== 'email') rules.push(`matches \`${schema.pattern.replaceAll('|', '\\|')}\``);
  return rules.join('; ');
}

function defaultOf(schema: JsonSchema, sectionDefault: unknown): string {
  const value = schema.default ?? sectionDefault;
  return value === undefined ? '' : `\`${JSON.stringify(value)}\``;
}

function rowsOf(schema: JsonSchema, prefix: string, sectionDefaults: Readonly<Record<string, unknown>> = {}): Row[] {
  const rows: Row[] = [];
  for (const [name, field] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${name}`;
    rows.push({
      field: path,
      type: typeOf(field),
      required: (schema.required ?? []).includes(name) && field.default === undefined && sectionDefaults[name] === undefined,
      defaultValue: defaultOf(field, sectionDefaults[name]),
      rule: ruleOf(field),
      description: (field.description ?? '').replaceAll('|', '\\|'),
    });
  }
  return rows;
}

function table(rows: readonly Row[]): string {
  const lines = ['| field | type | default | limits | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const row of rows) {
    const field = `\`${row.field}\`${row.required ? ' (required)' : ''}`;
    lines.push(`| ${field} | ${row.type} | ${row.defaultValue} | ${row.rule} | ${row.description} |`);
  }
  return lines.join('\n');
}

/** The whole reference, as Markdown. */
export function configurationReference(): string {
  const root = z.toJSONSchema(platformConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  const properties = root.properties!;
  const models = properties.models!.items as JsonSchema;
  const model = models.properties!;
  const column = (model.columns!.items as JsonSchema) ?? {};
  const tuning = properties.training!.properties!.tuning!;
  const ranges = (tuning.properties!.parameters!.additionalProperties as JsonSchema).oneOf ?? [];
  const rangeOf = (type: string) => ranges.find((range) => range.properties?.type?.const === type)!;
  const sections: Array<[string, string, Row[]]> = [
    [
      'Platform',
      'The top level of `context.mlops` in cdk.json.',
      rowsOf(root, '').filter((row) => !['training', 'serving', 'drift', 'api', 'pricing', 'models'].includes(row.field)),
    ],
    ...(['training', 'serving', 'drift', 'api', 'pricing'] as const).map((section): [string, string, Row[]] => [
      section,
      `${properties[section]!.description ?? ''}.`,
      rowsOf(properties[section]!, `${section}.`, SECTION_DEFAULTS[section]),
    ]),
    [
      'training.tuning',
      `${tuning.description ?? ''}. Set it platform-wide or in a model's \`training\`; a model's section replaces the platform's as a whole.`,
      [
        ...rowsOf(tuning, 'training.tuning.'),
        ...rowsOf(tuning.properties!.objective!, 'training.tuning.objective.').map((row) => ({ ...row, required: false })),
      ],
    ],
    ...(['integer', 'continuous', 'categorical'] as const).map((type): [string, string, Row[]] => [
      `training.tuning.parameters.<name> (${type})`,
      `one hyperparameter's ${type} range, under its name in \`training.tuning.parameters\`.`,
      rowsOf(rangeOf(type), 'training.tuning.parameters.<name>.'),
    ]),
    ['models[]', `${properties.models!.description ?? ''}.`, rowsOf(models, 'models[].')],
    ['models[].columns[]', `${model.columns!.description ?? ''}.`, rowsOf(column, 'models[].columns[].')],
    ['models[].dataset', `${model.dataset!.description ?? ''}.`, rowsOf(model.dataset!, 'models[].dataset.')],
    ['models[].thresholds', `${model.thresholds!.description ?? ''}.`, rowsOf(model.thresholds!, 'models[].thresholds.')],
    [
      'models[].split',
      `${model.split!.description ?? ''}; \`holdoutFraction + validationFraction\` must be under 1.`,
      rowsOf(model.split!, 'models[].split.'),
    ],
  ];
  const sentence = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  const body = sections.map(([title, text, rows]) => `## ${title}\n\n${sentence(text)}\n\n${table(rows)}`).join('\n\n');
  return `<!-- Generated by \`npm run docs:config\` from contracts/platform-config.ts; do not edit by hand. -->

# Configuration reference

The platform is configured in \`cdk.json\` under \`context.mlops\`, or with \`npx cdk synth -c mlops='{…json…}'\`;
the same fields are the props of the \`MlopsPlatform\` construct when a team embeds it in its own stack
(with the resources it brings: [api-reference.md](api-reference.md)).
\`cdk synth\`, \`npm start\` and the CDK app validate it with the schema this page is generated from;
an invalid configuration stops with one line per problem, naming the field and the rule.

Besides the limits below, fields are checked together:

- managed spot training (\`training.useSpot\`) needs \`maxWaitSeconds ≥ maxRuntimeSeconds\` and \`checkpointing\`;
- \`training.tuning\`: the objective is one of the training program's metrics, 1–30 ranges named like hyperparameters but not \`sagemaker_*\` or \`_tuning_*\`, each range's \`max > min\` (\`Logarithmic\` needs \`min > 0\`, \`ReverseLogarithmic\` \`0 ≤ min < max < 1\`), categorical values unique, \`maxParallelJobs ≤ maxJobs\`, at most 750 jobs for \`Bayesian\`;
- \`serving.minInstances ≤ maxInstances\`; a burstable \`ml.t*\` endpoint cannot autoscale (\`minInstances\` must equal \`maxInstances\`);
- \`drift.psiWarn ≤ psiDrift\`, also per feature; \`drift.featureThresholds\` must name the model's columns;
- a model's \`target\`, \`sensitiveAttribute\` and \`features\` must name its columns (the target is no feature, the sensitive attribute no target), column names are unique, and \`thresholds.metrics\` may name only the problem type's metrics;
- every model's training instance type, and the instance type of every endpoint-mode model, has a price ([Instance prices](#instance-prices));
- there is at least one model, and model names are unique.

A model's \`training\`, \`serving\` and \`drift\` sections override the platform-wide sections field by field.

${body}

${instancePrices()}
`;
}

/** The price table, generated from contracts/pricing.ts so the page and the code cannot disagree. */
function instancePrices(): string {
  const rows = Object.entries(INSTANCE_HOUR_USD).map(
    ([type, price]) =>
      `| \`${type}\` | ${price} | ${(price * HOURS_PER_MONTH).toFixed(2)} |${SINGLE_SOURCE_PRICES.includes(type) ? ' one source only: verify |' : ' |'}`,
  );
  return `## Instance prices

The idle-cost alarm states what an idle endpoint's instances cost a month (\`minInstances\` × hourly price × ${HOURS_PER_MONTH} h), and
evaluate-model publishes each run's training spend (\`BillableTimeInSeconds\` × instance count × hourly price / 3600) and spot savings
((\`TrainingTimeInSeconds\` − \`BillableTimeInSeconds\`) × instance count × hourly price / 3600) from this table
([observability.md](observability.md)). The prices are SageMaker on-demand list prices in **${PRICES_REGION}**, taken on **${PRICES_TAKEN}**,
one price per type for training and real-time hosting. They were read from copies of the Amazon SageMaker pricing page (the page itself
could not be fetched from the build machine); a type is listed only where at least two copies agreed, except where marked. The larger
\`ml.g4dn\` and \`ml.g5\` sizes (2xlarge and up) are left out because the copies disagreed. Prices differ by region, change over time,
and Savings Plans lower them: override any type, or add one, with \`pricing.instanceHourUsd\` (the figure below is illustrative,
not a price):

\`\`\`json
"pricing": { "instanceHourUsd": { "ml.m5.xlarge": 0.2 } }
\`\`\`

A model whose training or endpoint instance type has neither a price here nor an override stops \`cdk synth\` with
\`… uses <type>, which has no price in the platform's table …; add its on-demand USD per hour as "pricing": { "instanceHourUsd": { "<type>": <price> } }\`.

| instance type | USD per hour | USD per month (${HOURS_PER_MONTH} h) | note |
| --- | --- | --- | --- |
${rows.join('\n')}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_DOC_PATH, configurationReference());
  process.stdout.write(`wrote ${path.relative(process.cwd(), CONFIGURATION_DOC_PATH)}\n`);
}
