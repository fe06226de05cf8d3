/**
 * `npm start`: the whole model lifecycle offline, on the artifacts `cdk deploy` ships. It
 * synthesizes the stack from cdk.json (cdk-nag and CloudFormation Guard included) and prints
 * what a deployment would create, then runs a scenario on the offline runtime (local/runtime.ts)
 * with a state-by-state timeline, ends with a summary table and writes ./mlops-report/index.html.
 *
 *   npm start [-- --scenario demo|train] [--data <file.csv>] [--model <name>] [--keep-running] [--no-synth]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, type PlatformConfig, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';
import { startApiServer } from './api-server';
import type { DeployedAssembly } from './deployed-iam';
import { localBackend } from './local-backend';
import { reportHtml, summaryText } from './report';
import { LocalPlatform, type TimelineEvent } from './runtime';
import { SCENARIOS, type ScenarioName, ScenarioRunner } from './scenario';

const USAGE = `usage: npm start -- [--scenario ${SCENARIOS.join('|')}] [--data <file.csv>] [--model <name>] [--keep-running] [--no-synth]`;
const log = (line = '') => process.stdout.write(`${line}\n`);
const elapsed = (start: number) => `${((performance.now() - start) / 1000).toFixed(1)} s`;

function readContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

/**
 * Synthesizes the stack as `cdk synth` does, in a child process running the CDK app
 * (bin/cdk-mlops.ts) with cdk.json's context, so the offline runtime itself never loads
 * aws-cdk-lib. Bundling is skipped here (`cdk synth` and `npm test` bundle every function); the
 * template, cdk-nag and Guard are the same. A synthesis failure (a nag finding, a bad
 * configuration) is printed as the app printed it.
 */
function summarizeDeployment(context: Record<string, unknown>): DeployedAssembly | undefined {
  const started = performance.now();
  const outdir = path.join(PROJECT_ROOT, 'cdk.out', 'npm-start');
  const synth = spawnSync(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'bin', 'cdk-mlops.ts')], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: JSON.stringify({ ...context, 'aws:cdk:bundling-stacks': [] }) },
    encoding: 'utf8',
  });
  if (synth.status !== 0) {
    process.stderr.write(`${synth.stderr || synth.stdout}\n`);
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
    `== What \`cdk deploy\` would create: stack ${stackName}, ${Object.keys(template.Resources).length} resources (cdk-nag and Guard clean, ${elapsed(started)})`,
  );
  const line = [...counts]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([type, count]) => `${count} ${type.replace(/^AWS::/, '')}`)
    .join(', ');
  log(`   ${line}`);
  log();
  return { assemblyDirectory: outdir, stackName };
}

function timelinePrinter(): (event: TimelineEvent) => void {
  return (event) => {
    if (event.kind === 'state') log(`   ${event.message.padEnd(24, ' ')} ${String(event.durationMs ?? 0).padStart(6)} ms`);
    else log(`     · ${event.message}`);
  };
}

async function main(): Promise<number> {
  let values: { scenario?: string; data?: string; model?: string; 'keep-running'?: boolean; 'no-synth'?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        scenario: { type: 'string' },
        data: { type: 'string' },
        model: { type: 'string' },
        'keep-running': { type: 'boolean' },
        'no-synth': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const scenario = (values.scenario ?? (values.data ? 'train' : 'demo')) as ScenarioName;
  if (!SCENARIOS.includes(scenario)) {
    process.stderr.write(`unknown scenario "${values.scenario}"; choose one of ${SCENARIOS.join(', ')}\n${USAGE}\n`);
    return 2;
  }
  if (scenario === 'demo' && values.data) {
    process.stderr.write('--data trains on your file with the "train" scenario; the demo generates its own data and drift\n');
    return 2;
  }

  const context = readContext();
  let config: PlatformConfig;
  try {
    config = parseConfig(context.mlops);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const modelName = values.model ?? config.models[0]!.name;
  if (!config.models.some((model) => model.name === modelName)) {
    process.stderr.write(`unknown model "${modelName}"; cdk.json configures ${config.models.map((model) => model.name).join(', ')}\n`);
    return 2;
  }
  const deployed = values['no-synth'] ? undefined : summarizeDeployment(context);
  if (!values['no-synth'] && !deployed) return 1;

  const started = performance.now();
  log('== Offline runtime: s3rver and DynamoDB Local on 127.0.0.1, the training state machine on aws-local-stepfunctions');
  log(
    deployed
      ? "   every AWS call is checked against the synthesized stack's IAM first (the role each function, state and training job runs as)"
      : '   --no-synth: calls are not checked against the IAM of a synthesized stack',
  );
  const platform = await LocalPlatform.start({ config, onEvent: timelinePrinter(), ...(deployed ? { deployed } : {}) });
  try {
    const model = platform.model(modelName);
    if (model.serving.mode !== 'serverless') {
      process.stderr.write(`model "${modelName}" is served by a SageMaker endpoint; the offline runtime serves serverless models\n`);
      return 2;
    }
    log(
      `   model ${model.name} (${model.problemType}), ${model.features.length} features, serving ${model.serving.mode}, canary ${model.serving.canaryPercent}%`,
    );
    const runner = new ScenarioRunner(platform, model, { scenario, dataFile: values.data, log });
    if (scenario === 'demo') await runner.demo();
    else await runner.trainOnce();

    const report = await runner.report();
    log();
    log(`== Summary (${elapsed(started)})`);
    log(summaryText(report));
    const directory = path.join(process.cwd(), 'mlops-report');
    mkdirSync(directory, { recursive: true });
    writeFileSync(path.join(directory, 'index.html'), reportHtml(report));
    writeFileSync(path.join(directory, 'report.json'), `${JSON.stringify(report, null, 1)}\n`);
    log();
    log(`Report: ${path.relative(process.cwd(), path.join(directory, 'index.html'))}`);
    const failed = report.runs.filter((run) => run.status !== 'SUCCEEDED' && run.error !== 'DeploymentRolledBack');
    if (values['keep-running']) {
      const api = await startApiServer(localBackend(platform), { actor: 'local-user' });
      log();
      log(`Local API (the routes of the deployed API Gateway API): ${api.url}`);
      log(`  npx mlops --api ${api.url} models ${model.name}`);
      log(`  npx mlops --api ${api.url} train --model ${model.name} --data s3://local-datasets/${model.name}/2026-11-15/ --wait`);
      log('Press Ctrl+C to stop.');
      await new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
      await api.close();
    }
    return failed.length === 0 ? 0 : 1;
  } finally {
    await platform.stop();
  }
}

process.exitCode = await main();
