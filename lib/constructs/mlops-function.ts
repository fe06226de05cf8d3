/**
 * The one Lambda construct every platform function uses: fixed runtime, architecture,
 * tracing, log group, and an esbuild bundle made by the local esbuild (never Docker) from the
 * sources, or the bundle prebuilt into the compiled package (see contracts/project-root.ts).
 */
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { AssetHashType, DockerImage, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { BuildOptions } from 'esbuild';
import { METRICS_NAMESPACE } from '../../contracts/metrics';
import { PREBUILT_DIRECTORY, PROJECT_ROOT, RUNNING_FROM_SOURCE } from '../../contracts/project-root';

/** The newest Node.js runtime aws-cdk-lib offers; older ones fail cdk-nag AwsSolutions-L1. */
export const LAMBDA_RUNTIME = lambda.Runtime.NODEJS_24_X;
/** esbuild target matching LAMBDA_RUNTIME. */
export const LAMBDA_ESBUILD_TARGET = 'node24';

/** Lambda memory bounds (`MemorySize`), in MB. */
const MEMORY_RANGE = { min: 128, max: 10_240 } as const;
/** Lambda timeout upper bound (`Timeout`), in seconds. */
const MAX_TIMEOUT_SECONDS = 900;

/**
 * ESM bundles lose CommonJS's `require`; some dependencies still call it for Node built-ins,
 * so the bundle recreates it.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);";

/** Every function's NODE_OPTIONS: stack traces through the bundles' source maps. Exported for the cold-start benchmark. */
export const FUNCTION_NODE_OPTIONS = '--enable-source-maps';

/** Shared esbuild options; exported so the bundle-size check builds exactly what is deployed. */
export const DEFAULT_BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: LAMBDA_ESBUILD_TARGET,
  minify: true,
  sourceMap: true,
  sourcesContent: false,
  mainFields: ['module', 'main'],
  banner: ESM_REQUIRE_BANNER,
  // The Lambda runtime ships the AWS SDK v3; bundling it would add megabytes of INIT time.
  externalModules: ['@aws-sdk/*'],
  forceDockerBundling: false,
};

/**
 * DEFAULT_BUNDLING as direct esbuild options, for tools that bundle a handler the way a function
 * is bundled without synthesizing (the bundle budget check, the cold-start benchmark).
 */
export function esbuildOptionsOf(extraExternal: readonly string[] = []) {
  return {
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: DEFAULT_BUNDLING.target,
    minify: DEFAULT_BUNDLING.minify,
    mainFields: DEFAULT_BUNDLING.mainFields,
    banner: { js: DEFAULT_BUNDLING.banner ?? '' },
    external: [...(DEFAULT_BUNDLING.externalModules ?? []), ...extraExternal],
    logLevel: 'silent',
  } satisfies BuildOptions;
}

/**
 * Packages a function's bundle leaves out beside the AWS SDK, by function folder: onnxruntime-node
 * comes from a layer (its native binary cannot be bundled).
 */
export const FUNCTION_EXTERNAL_MODULES: Readonly<Record<string, readonly string[]>> = {
  predict: ['onnxruntime-node'],
  'evaluate-model': ['onnxruntime-node'],
};

/** The bundle's file name; the Lambda handler is `index.<export>`. */
const BUNDLE_FILE = 'index.mjs';

/** esbuild is a build tool: loaded only when bundling from the sources, so the compiled package never needs it. */
function esbuild(): typeof import('esbuild') {
  return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
}

/**
 * Writes `lambdas/<functionDirectory>/handler.ts` bundled (DEFAULT_BUNDLING, the folder's
 * FUNCTION_EXTERNAL_MODULES external) to `<outputDirectory>/index.mjs` with its source map.
 * Used at synth from the sources and by `npm pack` to prebuild the package's bundles.
 */
export function bundleFunction(functionDirectory: string, outputDirectory: string): void {
  esbuild().buildSync({
    ...esbuildOptionsOf(FUNCTION_EXTERNAL_MODULES[functionDirectory] ?? []),
    entryPoints: [path.join(PROJECT_ROOT, 'lambdas', functionDirectory, 'handler.ts')],
    absWorkingDir: PROJECT_ROOT,
    outfile: path.join(outputDirectory, BUNDLE_FILE),
    sourcemap: DEFAULT_BUNDLING.sourceMap ? 'linked' : false,
    sourcesContent: DEFAULT_BUNDLING.sourcesContent,
  });
}

/** The function's code: the prebuilt bundle of the compiled package, or a bundle made now from the sources. */
function functionCode(functionDirectory: string): lambda.Code {
  if (!RUNNING_FROM_SOURCE) return lambda.Code.fromAsset(path.join(PREBUILT_DIRECTORY, 'lambdas', functionDirectory));
  return lambda.Code.fromAsset(path.join(PROJECT_ROOT, 'lambdas', functionDirectory), {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Required by the API; never pulled, because local bundling always succeeds.
      image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
      local: {
        tryBundle: (outputDirectory) => {
          bundleFunction(functionDirectory, outputDirectory);
          return true;
        },
      },
    },
  });
}

export interface MlopsFunctionProps {
  /** Folder under `lambdas/` holding `handler.ts` (e.g. `registry`). */
  readonly functionDirectory: string;
  /** What the function does, shown in the Lambda console. */
  readonly description: string;
  /**
   * The function `handler.ts` exports that Lambda calls (a folder may export several, e.g. a
   * custom resource's `onEvent` and `isComplete`).
   * @default 'handler'
   */
  readonly handler?: string;
  /**
   * Memory in MB.
   * @default 256
   */
  readonly memorySize?: number;
  /**
   * Maximum run time.
   * @default Duration.seconds(30)
   */
  readonly timeout?: Duration;
  /**
   * Environment variables, merged over the Powertools defaults.
   * @default - only the Powertools settings
   */
  readonly environment?: Record<string, string>;
  /**
   * Retention of the function's log group.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Instruction set. Only a native addon without an arm64 build justifies x86_64.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Layers, e.g. a native addon the bundle leaves external (their architecture must match).
   * @default - none
   */
  readonly layers?: lambda.ILayerVersion[];
  /**
   * Reserved concurrency; leave unset to share the account pool.
   * @default - no reservation
   */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Whether the function is only ever invoked synchronously (Step Functions tasks, API
   * Gateway, direct SDK calls), so an asynchronous-invocation DLQ would never receive anything.
   * @default true
   */
  readonly synchronousOnly?: boolean;
}

/** Defaults applied before the caller's props. */
function defaultProps(props: MlopsFunctionProps) {
  return {
    memorySize: 256,
    timeout: Duration.seconds(30),
    logRetention: logs.RetentionDays.ONE_MONTH,
    architecture: lambda.Architecture.ARM_64,
    synchronousOnly: true,
    ...props,
  };
}

export class MlopsFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: MlopsFunctionProps) {
    const resolved = defaultProps(props);
    validateProps(resolved.functionDirectory, resolved.memorySize, resolved.timeout);
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: resolved.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of AWSLambdaBasicExecutionRole, whose log permissions span every log group.
    const role = new iam.Role(scope, `${id}Role`, {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `cdk-mlops ${resolved.functionDirectory} function`,
    });
    logGroup.grantWrite(role);
    super(scope, id, {
      code: functionCode(resolved.functionDirectory),
      handler: `index.${resolved.handler ?? 'handler'}`,
      description: resolved.description,
      runtime: LAMBDA_RUNTIME,
      architecture: resolved.architecture,
      memorySize: resolved.memorySize,
      timeout: resolved.timeout,
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      role,
      loggingFormat: lambda.LoggingFormat.JSON,
      reservedConcurrentExecutions: resolved.reservedConcurrentExecutions,
      layers: resolved.layers,
      environment: {
        NODE_OPTIONS: FUNCTION_NODE_OPTIONS,
        POWERTOOLS_SERVICE_NAME: resolved.functionDirectory,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        ...resolved.environment,
      },
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which X-Ray authorises only on "*".',
    });
    Validations.of(this).acknowledge({
      id: 'cdk-validator-cfnguard::lambda_inside_vpc_check',
      reason:
        'The platform functions reach only AWS APIs (S3, DynamoDB, SageMaker, Step Functions) over TLS with IAM; a VPC would add NAT or interface endpoints for no isolation gain.',
    });
    Validations.of(logGroup).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        'Handlers log identifiers, counts and errors, never dataset rows or predictions; CloudWatch Logs encrypts at rest by default.',
    });
    if (resolved.logRetention < logs.RetentionDays.ONE_YEAR) {
      Validations.of(logGroup).acknowledge({
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
        reason: `Retention set to ${resolved.logRetention} days by the platform owner (config logRetentionDays); the audit trail lives in the registry table, not in logs.`,
      });
    }
    if (resolved.synchronousOnly) {
      const reason =
        'Invoked synchronously only (Step Functions task or API call): failures return to the caller, which retries and records them; an async DLQ would never receive an event.';
      Validations.of(this).acknowledge({ id: 'Serverless-LambdaDLQ', reason });
    }
  }
}

function validateProps(functionDirectory: string, memorySize: number, timeout: Duration): void {
  if (!/^[a-z][a-z0-9-]*$/.test(functionDirectory)) {
    throw new Error(`functionDirectory must be a folder name under lambdas/ (a-z, 0-9, -), got "${functionDirectory}"`);
  }
  if (!Number.isInteger(memorySize) || memorySize < MEMORY_RANGE.min || memorySize > MEMORY_RANGE.max) {
    throw new Error(`memorySize must be an integer between ${MEMORY_RANGE.min} and ${MEMORY_RANGE.max} MB, got ${memorySize}`);
  }
  if (timeout.toSeconds() < 1 || timeout.toSeconds() > MAX_TIMEOUT_SECONDS) {
    throw new Error(`timeout must be between 1 and ${MAX_TIMEOUT_SECONDS} seconds, got ${timeout.toSeconds()}`);
  }
}
