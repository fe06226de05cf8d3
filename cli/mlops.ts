/**
 * `mlops`, the platform's command line: train, batch-score, follow and inspect pipeline runs, list models
 * and versions, promote/rollback/approve/archive, predict. Talks to the deployed API (SigV4)
 * or to the offline runtime's local server. Exit codes: 0 done, 1 the API refused or could not
 * be reached, 2 bad usage (no command included), 3 a followed pipeline run ended without succeeding.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import {
  type ApproveResponse,
  type ExecutionStatus,
  type ModelsPage,
  NO_PIPELINE_MESSAGE,
  NO_ROUTE_MESSAGE,
  NOT_SERVED_MESSAGE,
  type RedriveResponse,
  type StageChangeResponse,
  type StartTrainingResponse,
  type VersionsPage,
} from '../contracts/api';
import { BATCH_FORMATS, type BatchRequest } from '../contracts/batch-inference';
import type { ModelRecord } from '../contracts/registry';
import type { PredictResponse } from '../contracts/serving-schema';
import {
  executionPath,
  keyValues,
  localDatasetPath,
  percentage,
  positiveInteger,
  positiveNumber,
  readJsonLines,
  UsageError,
} from './arguments';
import { ApiClient, ApiError, apiUrlFromStackOutputs } from './client';
import { describeEnd, describeExecution, describePredictions, describeProgress, fields, formatMetrics, table } from './format';
import { predictInBatches } from './predict-batches';

export const EXIT = { ok: 0, failed: 1, usage: 2, pipelineFailed: 3 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** A file's text; "-" is standard input, read to its end. */
  readonly readFile: (path: string) => string | Promise<string>;
  /** A file's bytes (a dataset to upload). @default the bytes of readFile's text */
  readonly readBytes?: (path: string) => Uint8Array | Promise<Uint8Array>;
  readonly fetch?: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
  /** The clock `--wait` measures a state's time with. @default Date.now */
  readonly now?: () => number;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  // Standard input is read as a stream: readFileSync(0) fails with EAGAIN once a non-blocking pipe runs dry.
  readFile: (file) => (file === '-' ? readStandardInput() : readFile(file, 'utf8')),
  readBytes: (file) => readFile(file),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

async function readStandardInput(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** `--wait` prints how long the current state has run at most this often (the states themselves as they come). */
export const PROGRESS_INTERVAL_MS = 60_000;

interface GlobalOptions {
  api?: string;
  region?: string;
  stackOutputs?: string;
  stack?: string;
  token?: string;
  json?: boolean;
}

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);

/** Runs the CLI with `argv` (without node and script); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo = defaultIo): Promise<number> {
  let exitCode: number = EXIT.ok;
  let stackOutputs: unknown;
  const program = new Command('mlops')
    .description('Drive the cdk-mlops platform: training pipelines, the model registry, predictions.')
    .option('--api <url>', 'the API URL (the stack output ApiUrl, or the local server); env MLOPS_API_URL')
    .option('--stack-outputs <file>', 'read ApiUrl from `cdk deploy --outputs-file` JSON')
    .option('--stack <name>', 'which stack of the outputs file')
    .option('--region <region>', 'region for SigV4 signing (default: from the API host name)')
    .option('--token <jwt>', 'a Cognito ID token, when the API uses a user pool authorizer; env MLOPS_TOKEN')
    .option('--json', 'print the API responses as JSON, for scripts')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError();

  const action =
    <A extends unknown[]>(body: (client: ApiClient, options: GlobalOptions, ...args: A) => Promise<number | undefined>) =>
    async (...args: A) => {
      const options = program.opts<GlobalOptions>();
      stackOutputs = options.stackOutputs ? await readStackOutputs(io, options.stackOutputs) : undefined;
      const client = clientFor(options, io, stackOutputs);
      try {
        exitCode = (await body(client, options, ...args)) ?? EXIT.ok;
      } catch (error) {
        if (error instanceof ApiError && isUnknownModel(error)) error.hint = await knownModels(client);
        throw error;
      }
    };
  const print = (options: GlobalOptions, value: unknown, human: () => string) =>
    io.stdout(`${options.json ? JSON.stringify(value, null, 2) : human()}\n`);

  program
    .command('train')
    .description("start a model's training pipeline")
    .requiredOption('--model <name>', 'the model to train')
    .requiredOption(
      '--data <s3uri>',
      'the training data: s3://bucket/key or s3://bucket/prefix/ (a local file is uploaded when the API is the offline runtime)',
    )
    .option('--holdout <s3uri>', "evaluation data (default: the holdout split off the training data's validated rows)")
    .option('--hyperparameter <key=value...>', 'a hyperparameter (repeatable)')
    .option('--require-approval', 'wait for `mlops approve` before deploying')
    .option('--commit <sha>', 'the training code commit, kept in the lineage')
    .option('--wait', 'follow the run state by state until it ends')
    .addOption(new Option('--interval <seconds>', 'seconds between status checks with --wait').default('10').argParser(positiveNumber))
    .action(
      action(
        async (
          client,
          options,
          command: {
            model: string;
            data: string;
            holdout?: string;
            hyperparameter?: string[];
            requireApproval?: boolean;
            commit?: string;
            wait?: boolean;
            interval: number | string;
          },
        ) => {
          const datasetUri = await datasetUriOf(client, options, command.model, '--data', command.data);
          const holdoutUri = command.holdout ? await datasetUriOf(client, options, command.model, '--holdout', command.holdout) : undefined;
          const body = {
            model: command.model,
            datasetUri,
            ...(holdoutUri ? { holdoutUri } : {}),
            ...(command.hyperparameter ? { hyperparameters: keyValues(command.hyperparameter) } : {}),
            ...(command.requireApproval ? { requireApproval: true } : {}),
            ...(command.commit ? { codeCommit: command.commit } : {}),
          };
          const started = await client.post<StartTrainingResponse>('pipelines/training', body);
          return reportStarted(client, options, started, command);
        },
      ),
    );

  program
    .command('batch')
    .description("score a dataset with a model's batch inference pipeline (scored objects and _manifest.json under --output)")
    .requiredOption('--model <name>', 'the model that scores the rows')
    .requiredOption(
      '--input <s3uri>',
      "one object or a prefix/ under the model's name in the datasets bucket (a local file is uploaded when the API is the offline runtime)",
    )
    .requiredOption('--output <s3uri>', 'a prefix ending in / under batch/<model>/ in the artifacts bucket')
    .addOption(new Option('--version <n>', 'the version to score with (default: the production version)').argParser(positiveInteger))
    .addOption(new Option('--format <format>', 'format of the scored objects').choices([...BATCH_FORMATS]))
    .option('--row-id <column>', "the input column carrying each row's id (default: the row's number in its object)")
    .addOption(
      new Option('--max-failed-percent <percent>', 'share of rows that may fail before the run fails (default 1)').argParser(percentage),
    )
    .option('--wait', 'follow the run state by state until it ends')
    .addOption(new Option('--interval <seconds>', 'seconds between status checks with --wait').default('10').argParser(positiveNumber))
    .action(
      action(
        async (
          client,
          options,
          command: {
            model: string;
            input: string;
            output: string;
            version?: number;
            format?: (typeof BATCH_FORMATS)[number];
            rowId?: string;
            maxFailedPercent?: number;
            wait?: boolean;
            interval: number | string;
          },
        ) => {
          if (!command.output.endsWith('/')) throw new UsageError(`--output must be an S3 prefix ending in /, got ${command.output}`);
          const inputUri = await datasetUriOf(client, options, command.model, '--input', command.input, 'batch');
          const body: BatchRequest = {
            model: command.model,
            inputUri,
            outputUri: command.output,
            ...(command.version === undefined ? {} : { version: command.version }),
            ...(command.format ? { format: command.format } : {}),
            ...(command.rowId ? { rowIdColumn: command.rowId } : {}),
            ...(command.maxFailedPercent === undefined ? {} : { maxFailedPercent: command.maxFailedPercent }),
          };
          const started = await client.post<StartTrainingResponse>('pipelines/batch', body);
          return reportStarted(client, options, started, command, `${command.output}_manifest.json`);
        },
      ),
    );

  program
    .command('status')
    .description('status, current state and failure cause of a pipeline run')
    .argument('<execution>', 'the execution ARN (as `mlops train` printed it)')
    .option('--wait', 'follow the run until it ends')
    .addOption(new Option('--interval <seconds>', 'seconds between status checks with --wait').default('10').argParser(positiveNumber))
    .action(
      action(async (client, options, execution: string, command: { wait?: boolean; interval: number | string }) => {
        if (command.wait) return follow(client, options, execution, Number(command.interval) * 1000);
        const status = await client.get<ExecutionStatus>(executionPath(execution));
        print(options, status, () => describeExecution(status));
        return TERMINAL.has(status.status) && status.status !== 'SUCCEEDED' ? EXIT.pipelineFailed : EXIT.ok;
      }),
    );

  program
    .command('redrive')
    .description('resume a failed, aborted or timed-out pipeline run where it failed (Step Functions RedriveExecution)')
    .argument('<execution>', 'the execution ARN (as `mlops train` printed it)')
    .option('--wait', 'follow the run until it ends')
    .addOption(new Option('--interval <seconds>', 'seconds between status checks with --wait').default('10').argParser(positiveNumber))
    .action(
      action(async (client, options, execution: string, command: { wait?: boolean; interval: number | string }) => {
        const redriven = await client.post<RedriveResponse>(`${executionPath(execution)}/redrive`, {});
        print(options, redriven, () =>
          fields([
            ['redriven', redriven.executionArn],
            ['redrive', redriven.redriveCount],
            ['failed in', redriven.failedState],
            ['restarts', redriven.restarts],
            ['resumes at', redriven.resumesAt],
          ]),
        );
        if (!command.wait) return EXIT.ok;
        return follow(client, options, redriven.executionArn, Number(command.interval) * 1000);
      }),
    );

  program
    .command('models')
    .description('list the registered models, or show one')
    .argument('[name]', 'a model name')
    .action(
      action(async (client, options, name?: string) => {
        if (name) {
          const model = await client.get<ModelRecord>(`models/${encodeURIComponent(name)}`);
          print(options, model, () =>
            fields([
              ['model', model.modelName],
              ['latest version', model.latestVersion],
              ['production', model.productionVersion],
              ['previous production', model.previousProductionVersion],
              ['staging', model.stagingVersion],
              ['updated', model.updatedAt],
            ]),
          );
          return EXIT.ok;
        }
        const page = await client.get<ModelsPage>('models', { limit: '100' });
        print(options, page, () =>
          table(
            ['MODEL', 'LATEST', 'PRODUCTION', 'STAGING', 'UPDATED'],
            page.items.map((model) => [
              model.modelName,
              model.latestVersion,
              model.productionVersion,
              model.stagingVersion,
              model.updatedAt,
            ]),
          ),
        );
        return EXIT.ok;
      }),
    );

  program
    .command('versions')
    .description("list a model's versions, newest first")
    .argument('<model>', 'the model')
    .option('--stage <stage>', 'only versions in this stage (Registered, Staging, Production, Archived, Rejected)')
    .action(
      action(async (client, options, model: string, command: { stage?: string }) => {
        const page = await client.get<VersionsPage>(`models/${encodeURIComponent(model)}/versions`, {
          stage: command.stage,
          limit: '100',
        });
        print(options, page, () =>
          table(
            ['VERSION', 'STAGE', 'CREATED', 'METRICS', 'ARTIFACT'],
            page.items.map((version) => [
              version.version,
              version.stage,
              version.createdAt,
              formatMetrics(version.metrics),
              version.artifactUri,
            ]),
          ),
        );
        return EXIT.ok;
      }),
    );

  program
    .command('card')
    .description("a version's model card: lineage, data profile, metrics, fairness, approvals, rollout and drift, from the evidence")
    .argument('<model>')
    .argument('<version>', 'version number', positiveInteger)
    .action(
      action(async (client, options, model: string, version: number) => {
        const stored = await client.get<{ card: unknown; markdown: string; jsonUri: string; markdownUri: string }>(
          `models/${encodeURIComponent(model)}/versions/${version}/card`,
        );
        print(options, stored, () => `${stored.markdown}\nKept at ${stored.markdownUri} and ${stored.jsonUri}\n`);
        return EXIT.ok;
      }),
    );

  const stageChange = (verb: string, result: StageChangeResponse) =>
    result.changed === false
      ? `${verb}: nothing to do, version ${result.version.version} already ${result.version.stage}`
      : `${verb}: version ${result.version.version} is now ${result.version.stage}`;

  program
    .command('promote')
    .description('make a version the production version')
    .argument('<model>')
    .argument('<version>', 'version number', positiveInteger)
    .option('--reason <text>', 'why (kept in the audit trail)')
    .option(
      '--expected-production <version>',
      'only if this is still the production version ("none": only if there is none); default: the production version read just before',
    )
    .option('--force', 'promote over whatever is in production by then (no check)')
    .option('--idempotency-key <key>', 'a repeated request with this key does not act twice')
    .action(
      action(
        async (
          client,
          options,
          model: string,
          version: number,
          command: { reason?: string; expectedProduction?: string; force?: boolean; idempotencyKey?: string },
        ) => {
          // Without a stated expectation, the production version as read now: a promotion that lands
          // in between makes this one fail with a conflict instead of silently replacing it.
          const expected = command.force
            ? undefined
            : command.expectedProduction === undefined
              ? ((await client.get<ModelRecord>(`models/${encodeURIComponent(model)}`)).productionVersion ?? null)
              : command.expectedProduction === 'none'
                ? null
                : positiveInteger(command.expectedProduction);
          const result = await client.post<StageChangeResponse>(`models/${encodeURIComponent(model)}/versions/${version}/promote`, {
            reason: command.reason,
            idempotencyKey: command.idempotencyKey,
            ...(command.force ? { force: true } : { expectedProductionVersion: expected }),
          });
          print(options, result, () => stageChange('promote', result));
          return EXIT.ok;
        },
      ),
    );

  program
    .command('archive')
    .description('archive a version that is not in production')
    .argument('<model>')
    .argument('<version>', 'version number', positiveInteger)
    .option('--reason <text>', 'why (kept in the audit trail)')
    .action(
      action(async (client, options, model: string, version: number, command: { reason?: string }) => {
        const result = await client.post<StageChangeResponse>(`models/${encodeURIComponent(model)}/versions/${version}/archive`, {
          reason: command.reason,
        });
        print(options, result, () => stageChange('archive', result));
        return EXIT.ok;
      }),
    );

  program
    .command('rollback')
    .description('restore the previous production version')
    .argument('<model>')
    .option('--reason <text>', 'why (kept in the audit trail)')
    .option('--from-version <version>', 'only if this is still the production version', positiveInteger)
    .action(
      action(async (client, options, model: string, command: { reason?: string; fromVersion?: number }) => {
        const result = await client.post<StageChangeResponse>(`models/${encodeURIComponent(model)}/rollback`, {
          reason: command.reason,
          fromVersion: command.fromVersion,
        });
        print(options, result, () => stageChange('rollback', result));
        return EXIT.ok;
      }),
    );

  program
    .command('approve')
    .description('approve (or --reject) a version a pipeline run waits on; the run resumes')
    .argument('<model>')
    .argument('<version>', 'version number', positiveInteger)
    .option('--reject', 'reject instead: the version becomes Rejected and the run fails')
    .option('--reason <text>', 'why (kept in the audit trail)')
    .action(
      action(async (client, options, model: string, version: number, command: { reject?: boolean; reason?: string }) => {
        const result = await client.post<ApproveResponse>(`models/${encodeURIComponent(model)}/versions/${version}/approve`, {
          approved: !command.reject,
          reason: command.reason,
        });
        print(
          options,
          result,
          () => `version ${version} of ${model}: ${result.approval.status.toLowerCase()}; run ${result.approval.executionArn} resumed`,
        );
        return EXIT.ok;
      }),
    );

  program
    .command('predict')
    .description("score rows with a model's production version (any number: sent in requests within the API's limits)")
    .requiredOption('--model <name>', 'the model')
    .requiredOption('--file <path>', 'JSON Lines: one row per line, an object keyed by feature or an array ("-" reads stdin)')
    .action(
      action(async (client, options, command: { model: string; file: string }) => {
        const rows = await readJsonLines(io, command.file);
        const route = `models/${encodeURIComponent(command.model)}/predict`;
        const result = await predictInBatches(
          (bodyText) => client.postText<PredictResponse>(route, bodyText),
          rows,
          ({ scoredRows, totalRows, requests }) => {
            if (scoredRows < totalRows || requests > 1) {
              io.stderr(`predict: ${scoredRows} of ${totalRows} rows scored (${requests} request${requests === 1 ? '' : 's'})\n`);
            }
          },
        );
        print(options, result, () => describePredictions(result));
        return EXIT.ok;
      }),
    );

  if (argv.length === 0) {
    io.stderr(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io, program.opts<GlobalOptions>().json === true);
  }

  /**
   * A dataset argument as the pipeline takes it: an s3:// URI as given; a local file uploaded to the
   * offline runtime's datasets bucket when the API is the local one; else refused with what to do.
   */
  async function datasetUriOf(
    client: ApiClient,
    options: GlobalOptions,
    model: string,
    flag: string,
    value: string,
    commandName: 'train' | 'batch' = 'train',
  ): Promise<string> {
    const local = localDatasetPath(value);
    if (local === undefined) return value;
    // The object's name: the file's, with characters an S3 key had better not hold replaced.
    const name =
      path
        .basename(local)
        .replace(/[^A-Za-z0-9._-]/g, '-')
        .replace(/^[^A-Za-z0-9]+/, '') || 'dataset';
    if (client.isLocal) {
      const bytes = await readBytes(local);
      try {
        const uploaded = await client.put<{ datasetUri: string }>(
          `local/datasets/${encodeURIComponent(model)}/${encodeURIComponent(name)}`,
          bytes,
          'application/octet-stream',
        );
        io.stderr(`uploaded ${local} (${bytes.byteLength} bytes) to ${uploaded.datasetUri}\n`);
        return uploaded.datasetUri;
      } catch (error) {
        // A local server without the upload route: say what to do instead, below.
        if (!(error instanceof ApiError && error.status === 404 && error.message === NO_ROUTE_MESSAGE)) throw error;
      }
    }
    const bucket = stackOutput(stackOutputs, options.stack, 'DatasetsBucketName') ?? '<datasets bucket>';
    throw new UsageError(
      [
        `${flag} ${value} is a local path; the pipeline reads its data from S3. Upload it and pass its URI:`,
        `  aws s3 cp ${value} s3://${bucket}/${model}/${name}`,
        `  mlops ${commandName} --model ${model} ${flag} s3://${bucket}/${model}/${name} …`,
        ...(bucket.startsWith('<') ? ['(the bucket is the stack output DatasetsBucketName)'] : []),
      ].join('\n'),
    );
  }

  async function readBytes(file: string): Promise<Uint8Array> {
    try {
      return io.readBytes ? await io.readBytes(file) : Buffer.from(await io.readFile(file), 'utf8');
    } catch (error) {
      throw new UsageError(`cannot read ${file}: ${(error as Error).message}`);
    }
  }

  /**
   * Polls a run until it ends: each state as the run enters it (stdout), how long the current
   * state has been running at most every PROGRESS_INTERVAL_MS (stderr), then the outcome with the
   * failure's reason.
   */
  /**
   * A started pipeline run: its ARN (and where its manifest will be, for a batch run), then with
   * `--wait` the run followed state by state; the exit code says how it ended.
   */
  async function reportStarted(
    client: ApiClient,
    options: GlobalOptions,
    started: StartTrainingResponse,
    command: { wait?: boolean; interval: number | string },
    manifestUri?: string,
  ): Promise<number> {
    const manifestLine = manifestUri ? `manifest ${manifestUri}` : undefined;
    if (!command.wait) {
      print(options, manifestUri ? { ...started, manifestUri } : started, () =>
        [`started ${started.executionArn}`, ...(manifestLine ? [`${manifestLine} (when it ends)`] : [])].join('\n'),
      );
      return EXIT.ok;
    }
    if (!options.json) io.stdout(`started ${started.executionArn}\n`);
    const code = await follow(client, options, started.executionArn, Number(command.interval) * 1000);
    if (manifestLine && !options.json) io.stdout(`${manifestLine}\n`);
    return code;
  }

  async function follow(client: ApiClient, options: GlobalOptions, executionArn: string, intervalMs: number): Promise<number> {
    const now = io.now ?? Date.now;
    let shown = 0;
    let lastLine = now();
    for (;;) {
      const status = await client.get<ExecutionStatus>(executionPath(executionArn));
      if (!options.json && status.states.length > shown) {
        for (const state of status.states.slice(shown)) io.stdout(`  ${state.enteredAt}  ${state.name}\n`);
        shown = status.states.length;
        lastLine = now();
      }
      if (TERMINAL.has(status.status)) {
        print(options, status, () => describeEnd(status));
        return status.status === 'SUCCEEDED' ? EXIT.ok : EXIT.pipelineFailed;
      }
      const current = status.states.findLast((state) => state.name === status.currentState && state.exitedAt === undefined);
      if (current && now() - lastLine >= PROGRESS_INTERVAL_MS) {
        io.stderr(`${describeProgress(current.name, (now() - Date.parse(current.enteredAt)) / 1000)}\n`);
        lastLine = now();
      }
      await io.sleep(intervalMs);
    }
  }
}

async function readStackOutputs(io: CliIo, file: string): Promise<unknown> {
  try {
    return JSON.parse(await io.readFile(file));
  } catch (error) {
    throw new UsageError(`cannot read the stack outputs file ${file}: ${(error as Error).message}`);
  }
}

/** An output of the stack the outputs file holds (the one named by --stack, else the first with an ApiUrl). */
function stackOutput(outputs: unknown, stackName: string | undefined, name: string): string | undefined {
  const stacks = Object.entries((outputs ?? {}) as Record<string, Record<string, unknown>>);
  const stack = stackName ? stacks.find(([stack]) => stack === stackName) : stacks.find(([, values]) => typeof values?.ApiUrl === 'string');
  const value = stack?.[1]?.[name];
  return typeof value === 'string' ? value : undefined;
}

function clientFor(options: GlobalOptions, io: CliIo, outputs: unknown): ApiClient {
  let url = options.api ?? io.env.MLOPS_API_URL;
  if (!url && options.stackOutputs) {
    try {
      url = apiUrlFromStackOutputs(outputs, options.stack);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (!url) throw new UsageError('no API URL: pass --api <url> or --stack-outputs <cdk outputs json>, or set MLOPS_API_URL');
  try {
    return new ApiClient({
      baseUrl: url,
      region: options.region ?? undefined,
      token: options.token ?? io.env.MLOPS_TOKEN,
      fetch: io.fetch,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function reportError(error: unknown, io: CliIo, json: boolean): number {
  if (error instanceof CommanderError) {
    // Help and version are "errors" to commander that already printed: asked for, they exit 0;
    // help shown because a command was missing (or wrong) is bad usage.
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (error instanceof UsageError) {
    io.stderr(`mlops: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ApiError) {
    if (json)
      io.stderr(
        `${JSON.stringify({ status: error.status, error: { code: error.code, message: error.message, details: error.details }, ...(error.hint ? { hint: error.hint } : {}) })}\n`,
      );
    else {
      const details = Object.keys(error.details).length > 0 ? `\n  details: ${JSON.stringify(error.details)}` : '';
      const hint = error.hint ? `\n  ${error.hint}` : '';
      io.stderr(`mlops: ${error.status} ${error.code}: ${error.message}${details}${hint}\n`);
    }
    return EXIT.failed;
  }
  io.stderr(`mlops: ${(error as Error).message ?? String(error)}\n`);
  return EXIT.failed;
}

/** A refusal because the model name is not one the API knows (for training, prediction or the registry). */
function isUnknownModel(error: ApiError): boolean {
  if (error.status === 404)
    return [NOT_SERVED_MESSAGE, NO_PIPELINE_MESSAGE].includes(error.message) || /^unknown model /.test(error.message);
  const validation = error.details.validation;
  return error.status === 400 && typeof validation === 'string' && /\/model\b[^;]*(allowed values|enum)/.test(validation);
}

/** The registry's models for the reader of an unknown-model refusal (GET /models); a failure to list says so. */
async function knownModels(client: ApiClient): Promise<string> {
  try {
    const page = await client.get<ModelsPage>('models', { limit: '100' });
    if (page.items.length === 0) return 'the registry holds no models yet: train one first (mlops train --model <name> --data s3://…)';
    const names = page.items.map((model) =>
      model.productionVersion === undefined
        ? `${model.modelName} (no production version)`
        : `${model.modelName} (production v${model.productionVersion})`,
    );
    return `models in the registry: ${names.join(', ')}`;
  } catch (error) {
    return `(the models could not be listed: ${(error as Error).message})`;
  }
}
