/**
 * `mlops`, the platform's command line: train, follow and inspect pipeline runs, list models
 * and versions, promote/rollback/approve/archive, predict. Talks to the deployed API (SigV4)
 * or to the offline runtime's local server. Exit codes: 0 done, 1 the API refused or could not
 * be reached, 2 bad usage, 3 a followed pipeline run ended without succeeding.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type {
  ApproveResponse,
  ExecutionStatus,
  ModelsPage,
  StageChangeResponse,
  StartTrainingResponse,
  VersionsPage,
} from '../contracts/api';
import type { ModelRecord } from '../contracts/registry';
import type { PredictResponse } from '../contracts/serving-schema';
import { executionPath, keyValues, positiveInteger, positiveNumber, readJsonLines, UsageError } from './arguments';
import { ApiClient, ApiError, apiUrlFromStackOutputs } from './client';
import { describeEnd, describeExecution, describePredictions, fields, formatMetrics, table } from './format';

export const EXIT = { ok: 0, failed: 1, usage: 2, pipelineFailed: 3 } as const;

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readFile: (path: string) => string;
  readonly fetch?: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
}

const defaultIo: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  readFile: (path) => readFileSync(path === '-' ? 0 : path, 'utf8'),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

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
      exitCode = (await body(clientFor(options, io), options, ...args)) ?? EXIT.ok;
    };
  const print = (options: GlobalOptions, value: unknown, human: () => string) =>
    io.stdout(`${options.json ? JSON.stringify(value, null, 2) : human()}\n`);

  program
    .command('train')
    .description("start a model's training pipeline")
    .requiredOption('--model <name>', 'the model to train')
    .requiredOption('--data <s3uri>', 'the training data: s3://bucket/key or s3://bucket/prefix/')
    .option('--holdout <s3uri>', 'evaluation data (default: the training data)')
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
          const body = {
            model: command.model,
            datasetUri: command.data,
            ...(command.holdout ? { holdoutUri: command.holdout } : {}),
            ...(command.hyperparameter ? { hyperparameters: keyValues(command.hyperparameter) } : {}),
            ...(command.requireApproval ? { requireApproval: true } : {}),
            ...(command.commit ? { codeCommit: command.commit } : {}),
          };
          const started = await client.post<StartTrainingResponse>('pipelines/training', body);
          if (!command.wait) {
            print(options, started, () => `started ${started.executionArn}`);
            return EXIT.ok;
          }
          if (!options.json) io.stdout(`started ${started.executionArn}\n`);
          return follow(client, options, started.executionArn, Number(command.interval) * 1000);
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
    .description("score rows with a model's production version")
    .requiredOption('--model <name>', 'the model')
    .requiredOption('--file <path>', 'JSON Lines: one row per line, an object keyed by feature or an array ("-" reads stdin)')
    .action(
      action(async (client, options, command: { model: string; file: string }) => {
        const instances = readJsonLines(io, command.file);
        const result = await client.post<PredictResponse>(`models/${encodeURIComponent(command.model)}/predict`, { instances });
        print(options, result, () => describePredictions(result));
        return EXIT.ok;
      }),
    );

  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return reportError(error, io, program.opts<GlobalOptions>().json === true);
  }

  async function follow(client: ApiClient, options: GlobalOptions, executionArn: string, intervalMs: number): Promise<number> {
    let shown = 0;
    for (;;) {
      const status = await client.get<ExecutionStatus>(executionPath(executionArn));
      if (!options.json) {
        for (const state of status.states.slice(shown)) io.stdout(`  ${state.enteredAt}  ${state.name}\n`);
        shown = Math.max(shown, status.states.length);
      }
      if (TERMINAL.has(status.status)) {
        print(options, status, () => describeEnd(status));
        return status.status === 'SUCCEEDED' ? EXIT.ok : EXIT.pipelineFailed;
      }
      await io.sleep(intervalMs);
    }
  }
}

function clientFor(options: GlobalOptions, io: CliIo): ApiClient {
  let url = options.api ?? io.env.MLOPS_API_URL;
  if (!url && options.stackOutputs) {
    let outputs: unknown;
    try {
      outputs = JSON.parse(io.readFile(options.stackOutputs));
    } catch (error) {
      throw new UsageError(`cannot read the stack outputs file ${options.stackOutputs}: ${(error as Error).message}`);
    }
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
    // Help and version are "errors" to commander; they already printed.
    return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
      ? EXIT.ok
      : EXIT.usage;
  }
  if (error instanceof UsageError) {
    io.stderr(`mlops: ${error.message}\n`);
    return EXIT.usage;
  }
  if (error instanceof ApiError) {
    if (json)
      io.stderr(
        `${JSON.stringify({ status: error.status, error: { code: error.code, message: error.message, details: error.details } })}\n`,
      );
    else {
      const details = Object.keys(error.details).length > 0 ? `\n  details: ${JSON.stringify(error.details)}` : '';
      io.stderr(`mlops: ${error.status} ${error.code}: ${error.message}${details}\n`);
    }
    return EXIT.failed;
  }
  io.stderr(`mlops: ${(error as Error).message ?? String(error)}\n`);
  return EXIT.failed;
}
