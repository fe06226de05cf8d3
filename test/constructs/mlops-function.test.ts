import { Duration } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_BUNDLING, MlopsFunction } from '../../lib/constructs/mlops-function';
import { Template, testStack } from '../support/cdk';

describe('MlopsFunction', () => {
  it('applies the platform defaults: Node 24, arm64, 256 MB, 30 s, active tracing, JSON logs, source maps', () => {
    const stack = testStack();
    new MlopsFunction(stack, 'Fn', { functionDirectory: 'registry', description: 'test' });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 30,
      TracingConfig: { Mode: 'Active' },
      LoggingConfig: { LogFormat: 'JSON' },
      Environment: {
        Variables: { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_SERVICE_NAME: 'registry', POWERTOOLS_METRICS_NAMESPACE: 'CdkMlops' },
      },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('bundles ESM with the local esbuild, minified, AWS SDK left to the runtime', () => {
    expect(DEFAULT_BUNDLING).toMatchObject({
      format: 'esm',
      target: 'node24',
      minify: true,
      sourceMap: true,
      externalModules: ['@aws-sdk/*'],
      forceDockerBundling: false,
    });
  });

  it('takes the caller memory, timeout and log retention', () => {
    const stack = testStack();
    new MlopsFunction(stack, 'Fn', {
      functionDirectory: 'registry',
      description: 'test',
      memorySize: 1024,
      timeout: Duration.minutes(5),
      logRetention: logs.RetentionDays.ONE_YEAR,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', { MemorySize: 1024, Timeout: 300 });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
  });

  it.each([
    [{ memorySize: 64 }, 'memorySize must be an integer between 128 and 10240 MB, got 64'],
    [{ timeout: Duration.minutes(20) }, 'timeout must be between 1 and 900 seconds, got 1200'],
    [{ functionDirectory: '../escape' }, 'functionDirectory must be a folder name under lambdas/ (a-z, 0-9, -), got "../escape"'],
  ])('refuses %o with a message naming the prop', (override, message) => {
    expect(() => new MlopsFunction(testStack(), 'Fn', { functionDirectory: 'registry', description: 'test', ...override })).toThrow(
      message,
    );
  });
});
