/**
 * Validation benchmark (issue 3): 1,000,000 rows × 20 columns (16 numeric, 4 categorical) as a
 * CSV on disk, validated and profiled by (a) ours, (b) csv-parse row objects + ajv + a per-column
 * statistics pass, (c) DuckDB on one thread with the same checks and statistics in SQL; then
 * Parquet read throughput of plain hyparquet against our Parquet path. Each variant runs in its
 * own child process so its peak RSS is its own. Last line: one JSON object.
 * Then the memory cases (issue 19): 256 MB and 1 GB of CSV with unique ids, and one quoted cell of
 * 15 MB (under the 16 MiB row limit) and 50 MB (over it), each streamed with no reference profile.
 * Run: npx tsx bench/validate.ts [--rows N] [--memory-only]
 */
import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DuckDBInstance } from '@duckdb/node-api';
import { Ajv } from 'ajv';
import { parse } from 'csv-parse';
import { parquetRead } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type DatasetSchema, datasetSchemaSchema } from '../contracts/dataset';
import { parseProfile, serializeProfile } from '../lambdas/shared/profile/codec';
import { readCsv } from '../lambdas/shared/readers/csv';
import { readParquet } from '../lambdas/shared/readers/parquet';
import { DatasetValidator } from '../lambdas/validate-data/validation';

const NUMERIC_COLUMNS = 16;
const CATEGORIES = [
  ['red', 'green', 'blue', 'yellow'],
  ['small', 'medium', 'large'],
  ['north', 'south', 'east', 'west', 'central'],
  ['basic', 'plus', 'pro', 'enterprise', 'trial', 'legacy'],
] as const;
const NUMERIC_MIN = -1000;
const NUMERIC_MAX = 100_000;

const directory = path.join(tmpdir(), 'cdk-mlops-bench');
const rowsArgument = process.argv.indexOf('--rows');
const ROWS = rowsArgument > 0 ? Number(process.argv[rowsArgument + 1]) : 1_000_000;
const csvPath = path.join(directory, `validate-${ROWS}.csv`);
const parquetPath = path.join(directory, `validate-${ROWS}.parquet`);
const referencePath = path.join(directory, `validate-${ROWS}.reference-profile.json`);

const numericNames = Array.from({ length: NUMERIC_COLUMNS }, (_, index) => `x${index}`);
const categoryNames = CATEGORIES.map((_, index) => `c${index}`);

const schema: DatasetSchema = datasetSchemaSchema.parse({
  name: 'bench',
  target: 'c0',
  columns: [
    ...numericNames.map((name, index) => ({ name, type: 'number', nullable: index % 4 === 0, min: NUMERIC_MIN, max: NUMERIC_MAX })),
    ...categoryNames.map((name, index) => ({ name, type: 'category', allowedValues: [...CATEGORIES[index]!] })),
  ],
});

/** Deterministic data: normal, log-normal and uniform columns with a few decimals, ~1% nulls in nullable columns. */
async function generate(): Promise<void> {
  mkdirSync(directory, { recursive: true });
  if (existsSync(csvPath) && existsSync(parquetPath)) return;
  let state = 42;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const numeric = numericNames.map(() => new Float64Array(ROWS));
  const nulls = numericNames.map(() => new Uint8Array(ROWS));
  const categories = categoryNames.map(() => new Array<string>(ROWS));
  const partial = `${csvPath}.partial`;
  const out = createWriteStream(partial);
  let buffer = `${[...numericNames, ...categoryNames].join(',')}\n`;
  for (let row = 0; row < ROWS; row++) {
    const cells: string[] = [];
    for (let column = 0; column < NUMERIC_COLUMNS; column++) {
      if (column % 4 === 0 && random() < 0.01) {
        nulls[column]![row] = 1;
        cells.push('');
        continue;
      }
      const kind = column % 3;
      const value = kind === 0 ? 50 + 10 * normal() : kind === 1 ? Math.exp(2 + normal()) : random() * 1000;
      const text = value.toFixed(3);
      numeric[column]![row] = Number(text);
      cells.push(text);
    }
    for (let column = 0; column < CATEGORIES.length; column++) {
      const options = CATEGORIES[column]!;
      const value = options[Math.floor(random() * options.length)]!;
      categories[column]![row] = value;
      cells.push(value);
    }
    buffer += `${cells.join(',')}\n`;
    if (buffer.length > 1 << 20) {
      const chunk = buffer;
      buffer = '';
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
  }
  await new Promise((resolve, reject) => out.end(buffer, () => resolve(undefined)).once('error', reject));
  renameSync(partial, csvPath);
  const columnData = [
    ...numericNames.map((name, column) => ({
      name,
      data: column % 4 === 0 ? Array.from(numeric[column]!, (value, row) => (nulls[column]![row] ? null : value)) : numeric[column]!,
      type: 'DOUBLE' as const,
      nullable: column % 4 === 0,
    })),
    ...categoryNames.map((name, column) => ({ name, data: categories[column]!, type: 'STRING' as const })),
  ];
  writeFileSync(parquetPath, new Uint8Array(parquetWriteBuffer({ columnData, rowGroupSize: 100_000 })));
}

interface VariantResult {
  readonly variant: string;
  readonly rows: number;
  readonly seconds: number;
  readonly peakRssMb: number;
  readonly detail?: unknown;
}

function peakRssMb(): number {
  return Math.round(process.resourceUsage().maxRSS / 1024);
}

async function ours(useReference: boolean): Promise<VariantResult> {
  const referenceProfile = useReference ? parseProfile(readFileSync(referencePath, 'utf8')) : undefined;
  const started = performance.now();
  const validator = new DatasetValidator(schema, { referenceProfile });
  validator.startObject();
  for await (const batch of readCsv(createReadStream(csvPath, { highWaterMark: 1 << 20 }), validator.specs))
    validator.addBatch(batch, 'bench.csv');
  const { profile, report } = validator.finish(csvPath);
  const seconds = (performance.now() - started) / 1000;
  if (!useReference) writeFileSync(referencePath, serializeProfile(profile));
  return {
    variant: useReference ? 'ours' : 'ours-reference',
    rows: report.rowCount,
    seconds,
    peakRssMb: peakRssMb(),
    detail: { valid: report.valid, badRows: report.badRowCount },
  };
}

/** csv-parse row objects, each validated by ajv, then a per-column statistics pass over the row. */
async function csvParseAjv(): Promise<VariantResult> {
  const started = performance.now();
  const properties: Record<string, unknown> = {};
  schema.columns.forEach((column) => {
    properties[column.name] =
      column.type === 'number'
        ? { type: column.nullable ? ['number', 'null'] : 'number', minimum: column.min, maximum: column.max }
        : { type: 'string', enum: column.allowedValues };
  });
  const validate = new Ajv({ allErrors: true }).compile({
    type: 'object',
    properties,
    required: schema.columns.map((column) => column.name),
  });
  const stats = numericNames.map(() => ({ count: 0, nulls: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY, sum: 0 }));
  const categoryCounts = categoryNames.map(() => new Map<string, number>());
  let rows = 0;
  let bad = 0;
  const parser = createReadStream(csvPath).pipe(
    parse({
      columns: true,
      cast: (value, context) => (context.header ? value : value === '' ? null : context.index < NUMERIC_COLUMNS ? Number(value) : value),
    }),
  );
  for await (const record of parser as AsyncIterable<Record<string, number | string | null>>) {
    rows++;
    if (!validate(record)) bad++;
    for (let column = 0; column < NUMERIC_COLUMNS; column++) {
      const value = record[numericNames[column]!] as number | null;
      const stat = stats[column]!;
      if (value === null) {
        stat.nulls++;
        continue;
      }
      stat.count++;
      stat.sum += value;
      if (value < stat.min) stat.min = value;
      if (value > stat.max) stat.max = value;
    }
    categoryNames.forEach((name, column) => {
      const value = record[name] as string;
      categoryCounts[column]!.set(value, (categoryCounts[column]!.get(value) ?? 0) + 1);
    });
  }
  return { variant: 'csv-parse+ajv', rows, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb(), detail: { bad } };
}

/** DuckDB, one thread: read_csv with the schema's types, the same checks and statistics in one SQL pass. */
async function duckdb(): Promise<VariantResult> {
  const started = performance.now();
  const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await instance.connect();
  const COLUMN_TYPES = Object.fromEntries([
    ...numericNames.map((name) => [name, 'DOUBLE']),
    ...categoryNames.map((name) => [name, 'VARCHAR']),
  ]);
  const checks = schema.columns.flatMap((column) => {
    const name = `"${column.name}"`;
    const nulls = `count(*) - count(${name}) AS ${column.name}_nulls`;
    if (column.type === 'number') {
      return [
        nulls,
        `min(${name}) AS ${column.name}_min`,
        `max(${name}) AS ${column.name}_max`,
        `avg(${name}) AS ${column.name}_mean`,
        `count(*) FILTER (WHERE ${name} < ${column.min} OR ${name} > ${column.max}) AS ${column.name}_out_of_range`,
      ];
    }
    const allowed = column.allowedValues!.map((value) => `'${value}'`).join(', ');
    return [nulls, `count(*) FILTER (WHERE ${name} NOT IN (${allowed})) AS ${column.name}_not_allowed`];
  });
  const sql = `SELECT count(*) AS row_count, ${checks.join(', ')} FROM read_csv('${csvPath}', header = true, columns = ${JSON.stringify(COLUMN_TYPES).replaceAll('"', "'")})`;
  const reader = await connection.runAndReadAll(sql);
  const [row] = reader.getRowObjectsJson();
  connection.closeSync();
  instance.closeSync();
  return { variant: 'duckdb', rows: Number(row!.row_count), seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
}

function fileBuffer(file: string) {
  const descriptor = openSync(file, 'r');
  const size = statSync(file).size;
  return {
    byteLength: size,
    slice(start: number, end = size) {
      const bytes = Buffer.allocUnsafe(end - start);
      readSync(descriptor, bytes, 0, end - start, start);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

/** Plain hyparquet: every row group read into row arrays, as its default API returns them. */
async function hyparquetRows(): Promise<VariantResult> {
  const started = performance.now();
  const file = fileBuffer(parquetPath);
  let rows = 0;
  await parquetRead({ file, onComplete: (data: unknown[][]) => (rows += data.length) });
  return { variant: 'hyparquet-rows', rows, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
}

/** Ours on Parquet: column chunks into typed vectors, validated and profiled against the reference. */
async function oursParquet(): Promise<VariantResult> {
  const referenceProfile = parseProfile(readFileSync(referencePath, 'utf8'));
  const started = performance.now();
  const validator = new DatasetValidator(schema, { referenceProfile });
  validator.startObject();
  for await (const batch of readParquet(fileBuffer(parquetPath), validator.specs)) validator.addBatch(batch, 'bench.parquet');
  const { report } = validator.finish(parquetPath);
  return { variant: 'ours-parquet', rows: report.rowCount, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb() };
}

/**
 * The memory cases (issue 19), streamed from generators (never written to disk) with no reference
 * profile, as the pipeline's single mode runs: unique customer ids (a unique string column, a
 * number column profiled as the reference), and one row with a long quoted cell.
 */
const MEMORY_SCHEMA: DatasetSchema = datasetSchemaSchema.parse({
  name: 'bench-memory',
  target: 'label',
  columns: [
    { name: 'customer_id', type: 'string', unique: true },
    { name: 'amount', type: 'number' },
    { name: 'segment', type: 'category' },
    { name: 'notes', type: 'string', nullable: true },
    { name: 'label', type: 'integer' },
  ],
});
const MEMORY_HEADER = 'customer_id,amount,segment,notes,label\n';
const SEGMENTS = ['retail', 'smb', 'enterprise', 'public', 'partner'];
const sizeArgument = process.argv.indexOf('--bytes');
const MEMORY_BYTES = sizeArgument > 0 ? Number(process.argv[sizeArgument + 1]) : 0;
/** The unique-ids case at two sizes (flat peak RSS = bounded by design), and the long cell under and over the row limit. */
const UNIQUE_ID_BYTES = [256e6, 1e9];
const LONG_CELL_BYTES = [15e6, 50e6];

async function* uniqueIdCsv(totalBytes: number): AsyncGenerator<Uint8Array> {
  let sent = MEMORY_HEADER.length;
  yield Buffer.from(MEMORY_HEADER);
  for (let row = 0; sent < totalBytes; ) {
    let text = '';
    for (; text.length < 1 << 20; row++) {
      text += `cust-${row.toString(36).padStart(8, '0')},${(row * 7919) % 100_003}.${row % 100},${SEGMENTS[row % 5]},,${row % 2}\n`;
    }
    sent += text.length;
    yield Buffer.from(text);
  }
}

async function* longCellCsv(cellBytes: number): AsyncGenerator<Uint8Array> {
  yield Buffer.from(`${MEMORY_HEADER}a,1,retail,short,0\nb,2,smb,"quoted, short",1\nc,3,partner,"`);
  const chunk = Buffer.alloc(1 << 20, 0x78);
  for (let sent = 0; sent < cellBytes; sent += chunk.length) yield chunk.subarray(0, Math.min(chunk.length, cellBytes - sent));
  yield Buffer.from('",0\nd,4,retail,,1\n');
}

async function memoryCase(source: AsyncIterable<Uint8Array>, variant: string): Promise<VariantResult> {
  const started = performance.now();
  const validator = new DatasetValidator(MEMORY_SCHEMA);
  validator.startObject();
  let outcome: string;
  try {
    for await (const batch of readCsv(source, validator.specs)) validator.addBatch(batch, 'memory.csv');
    const { report } = validator.finish('memory.csv');
    outcome = `valid: ${report.valid}, ${report.rowCount} rows`;
  } catch (error) {
    outcome = `${(error as Error).name}: ${(error as Error).message}`;
  }
  return { variant, rows: 0, seconds: (performance.now() - started) / 1000, peakRssMb: peakRssMb(), detail: outcome };
}

const MEMORY_VARIANTS: Record<string, () => Promise<VariantResult>> = {
  /** The same process reading nothing: Node, tsx's loader thread and the modules, for comparison. */
  baseline: async () => ({ variant: 'baseline', rows: 0, seconds: 0, peakRssMb: peakRssMb(), detail: 'modules loaded, no data' }),
  'unique-ids': () => memoryCase(uniqueIdCsv(MEMORY_BYTES), 'unique-ids'),
  'long-cell': () => memoryCase(longCellCsv(MEMORY_BYTES), 'long-cell'),
};

const VARIANTS: Record<string, () => Promise<VariantResult>> = {
  'ours-reference': () => ours(false),
  ours: () => ours(true),
  'csv-parse+ajv': csvParseAjv,
  duckdb,
  'hyparquet-rows': hyparquetRows,
  'ours-parquet': oursParquet,
};

/**
 * The memory cases run with V8's old space capped at this: left alone, V8 lets garbage (here the
 * per-batch strings of unique ids) pile up far beyond the live data before collecting it, so an
 * uncapped peak RSS measures V8's laziness; a capped run that finishes proves the live data fits.
 */
const MEMORY_CASE_HEAP_MB = 128;

function runChild(variant: string, extra: string[] = [], nodeOptions: string[] = []): VariantResult {
  const output = execFileSync(
    process.execPath,
    [...nodeOptions, ...process.execArgv, fileURLToPath(import.meta.url), '--variant', variant, '--rows', String(ROWS), ...extra],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return JSON.parse(output.trim().split('\n').at(-1)!) as VariantResult;
}

/** Runs the memory cases, each in its own child process; prints them with their aims and returns the JSON fields. */
function runMemoryCases(): Record<string, number> {
  const peaks: Record<string, number> = {};
  const baseline = runChild('baseline', [], [`--max-old-space-size=${MEMORY_CASE_HEAP_MB}`]).peakRssMb;
  process.stdout.write(`baseline: the same child process reading no data peaks at ${baseline} MB\n`);
  for (const [variant, sizes] of [
    ['unique-ids', UNIQUE_ID_BYTES],
    ['long-cell', LONG_CELL_BYTES],
  ] as const) {
    for (const bytes of sizes) {
      const result = runChild(variant, ['--bytes', String(bytes)], [`--max-old-space-size=${MEMORY_CASE_HEAP_MB}`]);
      peaks[`${variant}-${bytes}`] = result.peakRssMb;
      process.stdout.write(
        `${variant.padEnd(11)} ${(bytes / 1e6).toFixed(0).padStart(5)} MB  peak RSS ${String(result.peakRssMb).padStart(4)} MB (aim <= 300 MB; old space capped at ${MEMORY_CASE_HEAP_MB} MB)  ${result.seconds.toFixed(1)} s  ${String(result.detail).slice(0, 160)}\n`,
      );
    }
  }
  return {
    memory_baseline_rss_mb: baseline,
    unique_ids_peak_rss_mb: peaks[`unique-ids-${UNIQUE_ID_BYTES[1]}`]!,
    unique_ids_256mb_peak_rss_mb: peaks[`unique-ids-${UNIQUE_ID_BYTES[0]}`]!,
    long_cell_peak_rss_mb: peaks[`long-cell-${LONG_CELL_BYTES[1]}`]!,
    long_cell_15mb_peak_rss_mb: peaks[`long-cell-${LONG_CELL_BYTES[0]}`]!,
  };
}

async function main(): Promise<void> {
  const variantArgument = process.argv.indexOf('--variant');
  if (variantArgument > 0) {
    const name = process.argv[variantArgument + 1]!;
    const result = await (VARIANTS[name] ?? MEMORY_VARIANTS[name]!)();
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const memory = runMemoryCases();
  if (process.argv.includes('--memory-only')) {
    process.stdout.write(`${JSON.stringify({ bench: 'validate-memory', ...memory })}\n`);
    return;
  }
  await generate();
  const megabytes = statSync(csvPath).size / 1e6;
  process.stdout.write(
    `data: ${ROWS} rows × 20 columns, CSV ${megabytes.toFixed(0)} MB, Parquet ${(statSync(parquetPath).size / 1e6).toFixed(0)} MB (${directory})\n`,
  );
  const results: Record<string, VariantResult> = {};
  for (const variant of Object.keys(VARIANTS)) {
    const result = runChild(variant);
    results[variant] = result;
    const rate = result.rows / result.seconds;
    process.stdout.write(
      `${variant.padEnd(16)} ${result.rows} rows in ${result.seconds.toFixed(2).padStart(6)} s  ${Math.round(rate).toLocaleString('en-US').padStart(10)} rows/s  peak RSS ${result.peakRssMb} MB\n`,
    );
  }
  const rate = (variant: string) => results[variant]!.rows / results[variant]!.seconds;
  const ratio = rate('ours') / rate('csv-parse+ajv');
  const ratioDuckdb = rate('ours') / rate('duckdb');
  process.stdout.write(`ours / csv-parse+ajv: ${ratio.toFixed(1)}×   ours / DuckDB (1 thread): ${ratioDuckdb.toFixed(2)}×\n`);
  process.stdout.write(
    `reference profiling (exact quantile edges, values kept): ${Math.round(rate('ours-reference')).toLocaleString('en-US')} rows/s, peak RSS ${results['ours-reference']!.peakRssMb} MB\n`,
  );
  process.stdout.write(
    `Parquet: ours ${Math.round(rate('ours-parquet')).toLocaleString('en-US')} rows/s (validated + profiled) vs hyparquet rows ${Math.round(rate('hyparquet-rows')).toLocaleString('en-US')} rows/s: ${(rate('ours-parquet') / rate('hyparquet-rows')).toFixed(2)}×\n`,
  );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'validate',
      ours_rows_per_s: Math.round(rate('ours')),
      peer_rows_per_s: Math.round(rate('csv-parse+ajv')),
      ratio: Number(ratio.toFixed(2)),
      duckdb_rows_per_s: Math.round(rate('duckdb')),
      ratio_duckdb: Number(ratioDuckdb.toFixed(2)),
      peak_rss_mb: results.ours!.peakRssMb,
      reference_rows_per_s: Math.round(rate('ours-reference')),
      reference_peak_rss_mb: results['ours-reference']!.peakRssMb,
      parquet_rows_per_s: Math.round(rate('ours-parquet')),
      hyparquet_rows_per_s: Math.round(rate('hyparquet-rows')),
      ...memory,
    })}\n`,
  );
}

await main();
