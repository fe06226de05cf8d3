/**
 * `npm start`: the model lifecycle offline, on the artifacts `cdk deploy` ships. It synthesizes
 * the stack from cdk.json (cdk-nag and CloudFormation Guard included) and prints what a
 * deployment would create, then runs a scenario on the offline runtime (local/runtime.ts) in a
 * workspace that lasts (`.mlops/`: registry, buckets, executions, one report folder per run),
 * printing the pipeline state by state with the training epochs and validation rates, and a
 * summary; `--keep-running` (or `--scenario serve`) then serves the local API until a signal.
 *
 * Every problem a user can cause (a missing --data file, a folder, a truncated cdk.json, no Java)
 * is one line on stderr and a non-zero exit, never a stack trace. SIGINT, SIGTERM and SIGHUP stop
 * the API server, the training program, s3rver and the DynamoDB Local JVM, and remove the temporary
 * folders, before the process exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import semver from 'semver';
import { csvDelimiterSchema } from '../contracts/dataset';
import { ConfigError, type PlatformConfig, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';
import { startApiServer } from './api-server';
import { OFFLINE_MS_PER_REQUEST, TrafficPacedClock } from './clock';
import type { DeployedAssembly } from './deployed-iam';
import { JavaMissingError, javaProblem } from './dynamodb-local';
import { localBackend } from './local-backend';
import { formatDuration, type RunIndexEntry, reportHtml, summaryText } from './report';
import { LocalPlatform, type TimelineEvent } from './runtime';
import { SCENARIOS, type ScenarioName, ScenarioRunner } from './scenario';
import { DEFAULT_WORKSPACE, newRunId, openWorkspace, recordRun, type Workspace, WorkspaceError } from './workspace';

const HELP = `npm start — the model lifecycle offline: the stack's state machine, Lambda handlers and
training program on s3rver, DynamoDB Local and Python, in a workspace that lasts.

usage: npm start -- [options]

  --scenario <name>  what to run:
                       demo   (default) the whole lifecycle on generated churn data: train, serve,
                              drift, retrain, a canary rolled back; starts from an empty registry
                       train  (default with --data) one pipeline run on --data, or on generated data
                       serve  no pipeline: serve the workspace's models with the local API
                              (implies --keep-running)
                       drift  one drift check over the predictions the workspace captured in the
                              model's window (drift.windowHours)
  --data <file>      the dataset to train on: CSV, TSV, JSON Lines or Parquet (.gz too); its columns
                     must be the model's in cdk.json
  --delimiter <c>    the field delimiter of a CSV --data, one character (';', '|', or 'tab');
                     default: the model's dataset.delimiter, else ','
  --model <name>     the model of cdk.json to use (default: the first); it must be served by Lambda
  --workspace <dir>  where the registry, buckets, executions and run reports are kept
                     (default: ${DEFAULT_WORKSPACE} in the project); reports go to <dir>/runs/<run>/index.html,
                     indexed by <dir>/runs/index.html
  --fresh            start the workspace over: delete what earlier runs kept in it
  --keep-running     after the scenario, keep the local API up (the routes of the deployed API
                     Gateway API, for \`npx mlops --api <url> …\`) until Ctrl+C, SIGTERM or SIGHUP
  --config <file>    the cdk.json whose context.mlops configures the platform (default: the project's)
  --no-synth         skip synthesizing the stack (the \`cdk synth\` summary with cdk-nag and Guard)
  -h, --help         this text

Exit codes: 0 done, 1 a run failed or the platform could not start, 2 a usage error;
128 + the signal's number when stopped by a signal before the work was done.`;

const SIGNALS = { SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const;
type SignalName = keyof typeof SIGNALS;

const log = (line = '') => process.stdout.write(`${line}\n`);
const fail = (message: string, code: number) => {
  process.stderr.write(`npm start: ${message}\n`);
  return code;
};

/** A problem of the user's input, printed as one line; `code` is the exit code. */
class UsageProblem extends Error {
  constructor(
    message: string,
    readonly code = 2,
  ) {
    super(message);
  }
}

/** What the process must stop on a signal or at the end: filled in as it starts. */
const running: { synth?: ChildProcess; platform?: Promise<LocalPlatform>; api?: { close(): Promise<void> } } = {};
let stopping: Promise<void> | undefined;

/** Stops the API server, the synthesis, then the platform (training program, s3rver, the JVM, temporary folders). */
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    running.synth?.kill('SIGTERM');
    await running.api?.close().catch(() => undefined);
    const platform = await running.platform?.catch(() => undefined);
    await platform?.stop();
  })();
  return stopping;
}

/** Resolves when a signal asks a kept-running API to stop (a normal end then). */
let onServeStop: ((signal: SignalName) => void) | undefined;

function installSignalHandlers(): void {
  let received: SignalName | undefined;
  for (const signal of Object.keys(SIGNALS) as SignalName[]) {
    process.on(signal, () => {
      if (received) {
        // A second signal while stopping: give up waiting.
        process.exit(128 + SIGNALS[signal]);
      }
      received = signal;
      if (onServeStop) return onServeStop(signal);
      process.stderr.write(`\n${signal}: stopping the offline runtime…\n`);
      void stopAll().finally(() => process.exit(128 + SIGNALS[signal]));
    });
  }
}

/** The user's paths are relative to where they ran `npm start` (npm runs the script in the project root). */
const userPath = (file: string) => path.resolve(process.env.INIT_CWD ?? process.cwd(), file);

function readContext(file: string, shown: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageProblem(
      code === 'ENOENT'
        ? `${shown}: no such file`
        : code === 'EISDIR'
          ? `${shown}: is a folder, not a file`
          : `${shown}: ${(error as Error).message}`,
      1,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageProblem(`${shown}: not valid JSON (${(error as Error).message}); is the file complete?`, 1);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new UsageProblem(`${shown}: must hold a JSON object`, 1);
  return ((parsed as { context?: Record<string, unknown> }).context ?? {}) as Record<string, unknown>;
}

function checkDataFile(file: string): string {
  const resolved = userPath(file);
  if (!existsSync(resolved)) throw new UsageProblem(`--data ${file}: no such file`);
  if (statSync(resolved).isDirectory()) {
    throw new UsageProblem(`--data ${file}: is a folder; give one dataset file (CSV, TSV, JSON Lines or Parquet)`);
  }
  return resolved;
}

function parseDelimiter(text: string): string {
  const delimiter = text === 'tab' || text === '\\t' ? '\t' : text;
  const parsed = csvDelimiterSchema.safeParse(delimiter);
  if (!parsed.success) throw new UsageProblem(`--delimiter ${JSON.stringify(text)}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * Synthesizes the stack as `cdk synth` does, in a child process running the CDK app
 * (bin/cdk-mlops.ts) with the configuration's context, so the offline runtime itself never loads
 * aws-cdk-lib. Bundling is skipped here (`cdk synth` and `npm test` bundle every function); the
 * template, cdk-nag and Guard are the same. A synthesis failure (a nag finding, a bad
 * configuration) is printed as the app printed it.
 */
async function summarizeDeployment(context: Record<string, unknown>): Promise<DeployedAssembly | undefined> {
  const started = performance.now();
  const outdir = path.join(PROJECT_ROOT, 'cdk.out', 'npm-start');
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin', 'cdk-mlops.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.synth = child;
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  running.synth = undefined;
  if (status !== 0) {
    process.stderr.write(`${output}\n`);
    return undefined;
  }
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const [stackName, stack] = Object.entries(manifest.artifacts).find(([, artifact]) => artifact.type === 'aws:cloudformation:stack')!;
  const template = JSON.parse(readFileSync(path.join(outdir, stack.properties!.templateFile!), 'utf8')) as {
    Resources: Record<string, { Type: string }>;
  };
  const counts = new Map<string, number>();
  for (const resource of Object.values(template.Resources)) counts.set(resource.Type, (counts.get(resource.Type) ?? 0) + 1);
  log(
    `== What \`cdk deploy\` would create: stack ${stackName}, ${Object.keys(template.Resources).length} resources (cdk-nag and Guard clean, ${formatDuration(performance.now() - started)})`,
  );
  log(
    `   ${[...counts]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([type, count]) => `${count} ${type.replace(/^AWS::/, '')}`)
      .join(', ')}`,
  );
  log();
  return { assemblyDirectory: outdir, stackName };
}

function timelinePrinter(): (event: TimelineEvent) => void {
  return (event) => {
    if (event.kind === 'state') log(`   ${event.message.padEnd(24, ' ')} ${String(event.durationMs ?? 0).padStart(6)} ms`);
    else log(`     · ${event.message}`);
  };
}

interface Options {
  readonly scenario: ScenarioName;
  readonly dataFile?: string;
  readonly delimiter?: string;
  readonly model?: string;
  readonly workspace: string;
  readonly fresh: boolean;
  readonly keepRunning: boolean;
  readonly configFile: string;
  readonly synth: boolean;
}

/** The options, or the help text; a UsageProblem for anything wrong with them. */
function parseOptions(argv: readonly string[]): Options | 'help' {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        scenario: { type: 'string' },
        data: { type: 'string' },
        delimiter: { type: 'string' },
        model: { type: 'string' },
        workspace: { type: 'string' },
        fresh: { type: 'boolean' },
        'keep-running': { type: 'boolean' },
        config: { type: 'string' },
        'no-synth': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new UsageProblem(`${(error as Error).message.split('\n')[0]} (see npm start -- --help)`);
  }
  if (values.help) return 'help';
  const data = values.data as string | undefined;
  const scenario = (values.scenario ?? (data ? 'train' : 'demo')) as ScenarioName;
  if (!SCENARIOS.includes(scenario)) throw new UsageProblem(`unknown scenario "${values.scenario}"; choose one of ${SCENARIOS.join(', ')}`);
  if (data && scenario !== 'train') {
    throw new UsageProblem(`--data trains on your file with the "train" scenario; "${scenario}" takes no dataset`);
  }
  if (values.delimiter !== undefined && !data) throw new UsageProblem('--delimiter says how to read --data; give --data too');
  return {
    scenario,
    ...(data ? { dataFile: checkDataFile(data) } : {}),
    ...(values.delimiter !== undefined ? { delimiter: parseDelimiter(values.delimiter as string) } : {}),
    ...(values.model ? { model: values.model as string } : {}),
    workspace: values.workspace ? userPath(values.workspace as string) : path.join(PROJECT_ROOT, DEFAULT_WORKSPACE),
    fresh: values.fresh === true,
    keepRunning: values['keep-running'] === true || scenario === 'serve',
    configFile: values.config ? userPath(values.config as string) : path.join(PROJECT_ROOT, 'cdk.json'),
    synth: values['no-synth'] !== true,
  };
}

/** How a path is shown: relative to where the user is, when inside it. */
const shown = (file: string) => {
  const relative = path.relative(process.env.INIT_CWD ?? process.cwd(), file);
  return relative && !relative.startsWith('..') ? relative : file;
};

async function serve(platform: LocalPlatform, model: string): Promise<void> {
  const api = await startApiServer(localBackend(platform), { actor: 'local-user' });
  running.api = api;
  log();
  log(`Local API (the routes of the deployed API Gateway API): ${api.url}`);
  log(`  npx mlops --api ${api.url} models ${model}`);
  log(`  npx mlops --api ${api.url} predict --model ${model} --file rows.jsonl`);
  log(`  npx mlops --api ${api.url} train --model ${model} --data s3://local-datasets/${model}/<key> --wait`);
  log('Press Ctrl+C (or send SIGTERM) to stop; the workspace keeps the registry, buckets and reports.');
  const signal = await new Promise<SignalName>((resolve) => {
    onServeStop = resolve;
  });
  log(`${signal}: stopping the local API`);
  await api.close();
  running.api = undefined;
}

/** The project's Node.js requirement (package.json engines): the emulator and the SDK need it. */
function checkNodeVersion(): void {
  const required = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines
    .node;
  if (!semver.satisfies(process.version, required)) {
    throw new UsageProblem(
      `Node.js ${process.version} is outside the project's requirement ${required} (package.json engines); run \`npm start\`, which uses the project's own Node 24`,
      1,
    );
  }
}

async function main(argv: readonly string[]): Promise<number> {
  const options = parseOptions(argv);
  if (options === 'help') {
    log(HELP);
    return 0;
  }
  checkNodeVersion();
  const config: PlatformConfig = (() => {
    try {
      return parseConfig(readContext(options.configFile, shown(options.configFile)).mlops);
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageProblem(error.message, 1);
      throw error;
    }
  })();
  const modelName = options.model ?? config.models[0]!.name;
  const modelConfig = config.models.find((model) => model.name === modelName);
  if (!modelConfig) {
    throw new UsageProblem(
      `unknown model "${modelName}"; ${shown(options.configFile)} configures ${config.models.map((model) => model.name).join(', ')}`,
    );
  }
  if ((modelConfig.serving?.mode ?? config.serving?.mode) === 'endpoint') {
    throw new UsageProblem(`model "${modelName}" is served by a SageMaker endpoint; the offline runtime serves serverless models`);
  }
  const java = javaProblem();
  if (java) throw new UsageProblem(java.message, 1);
  let workspace: Workspace;
  try {
    workspace = openWorkspace(options.workspace, { fresh: options.fresh });
  } catch (error) {
    if (error instanceof WorkspaceError) throw new UsageProblem(error.message, 2);
    throw error;
  }

  const deployed = options.synth ? await summarizeDeployment(readContext(options.configFile, shown(options.configFile))) : undefined;
  if (options.synth && !deployed) return 1;

  const startedAt = new Date();
  log(
    `== Offline runtime in ${shown(workspace.root)}: s3rver and DynamoDB Local on 127.0.0.1, the training state machine on aws-local-stepfunctions`,
  );
  log(
    deployed
      ? "   every AWS call is checked against the synthesized stack's IAM first (the role each function, state and training job runs as)"
      : '   --no-synth: calls are not checked against the IAM of a synthesized stack',
  );
  running.platform = LocalPlatform.start({
    config,
    workspace,
    onEvent: timelinePrinter(),
    // A rollout's windows end after their share of the demo's traffic, not after their seconds.
    clock: new TrafficPacedClock(OFFLINE_MS_PER_REQUEST),
    ...(deployed ? { deployed } : {}),
  });
  const platform = await running.platform;
  const model = platform.model(modelName);
  const existing = (await platform.registry.listVersions({ modelName, limit: 100 })).items;
  if (options.scenario === 'demo' && existing.length > 0) {
    throw new UsageProblem(
      `the demo tells its story from an empty registry, and ${shown(workspace.root)} holds ${modelName} v${Math.min(...existing.map((version) => version.version))}–v${Math.max(...existing.map((version) => version.version))}: add --fresh to start it over, or --workspace <dir> for another`,
    );
  }
  log(
    `   model ${model.name} (${model.problemType}), ${model.features.length} features, serving ${model.serving.mode}, canary ${model.serving.canaryPercent}%; ${existing.length} version(s) in the registry`,
  );
  const runId = newRunId(workspace, options.scenario, startedAt);
  const runner = new ScenarioRunner(platform, model, {
    scenario: options.scenario,
    // Execution names stay unique in the workspace: the run's start, to the second (`train-20261123-100000`).
    runId: startedAt
      .toISOString()
      .replace(/\.\d+Z$/, '')
      .replaceAll(/[-:]/g, '')
      .replace('T', '-'),
    log,
    ...(options.dataFile ? { dataFile: options.dataFile } : {}),
    ...(options.delimiter ? { delimiter: options.delimiter } : {}),
  });
  if (options.scenario === 'demo') await runner.demo();
  else if (options.scenario === 'train') await runner.trainOnce();
  else if (options.scenario === 'drift') await runner.driftOnce();

  const files = await runner.runFiles();
  const report = await runner.report();
  const failed = [...report.runs, ...(report.batch ?? [])].filter(
    (run) => run.status !== 'SUCCEEDED' && run.error !== 'DeploymentRolledBack',
  );
  if (options.scenario !== 'serve') {
    log();
    log(`== Summary (${formatDuration(report.durationMs)})`);
    log(summaryText(report));
    const entry: RunIndexEntry = {
      id: runId,
      scenario: options.scenario,
      model: modelName,
      startedAt: startedAt.toISOString(),
      durationMs: report.durationMs,
      outcome: failed.length === 0 ? 'succeeded' : 'failed',
      summary:
        failed.length > 0
          ? `${failed[0]!.execution} failed: ${failed[0]!.error ?? ''}`
          : `${report.runs.length} pipeline run(s), ${report.drift.length} drift check(s)`,
    };
    const directory = recordRun(workspace, entry, {
      'index.html': reportHtml(report),
      'report.json': `${JSON.stringify(report, null, 1)}\n`,
      ...files,
    });
    log();
    log(`Report: ${shown(path.join(directory, 'index.html'))} (every run: ${shown(path.join(workspace.runsDirectory, 'index.html'))})`);
  }
  if (options.keepRunning) await serve(platform, modelName);
  return failed.length === 0 ? 0 : 1;
}

installSignalHandlers();
try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.exitCode =
    error instanceof UsageProblem
      ? fail(error.message, error.code)
      : error instanceof JavaMissingError
        ? fail(error.message, 1)
        : fail(`${(error as Error).name}: ${(error as Error).message} (a fault of the offline runtime; please report it)`, 1);
} finally {
  await stopAll();
}
