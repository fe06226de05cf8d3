/**
 * Synthesizes the platform app once per test file for the IAM checks: cdk.json's configuration
 * (optionally changed), Lambda bundling and the policy-validation plugins skipped (the IAM in the
 * template is the same; those have their own tests), written to a temporary cloud assembly so the
 * state machine's definition asset can be read back.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { PlatformConfigInput } from '../../contracts/platform-config';
import { createApp } from '../../lib/app';
import { type CfnTemplate, type IamModel, loadIamModel } from '../../local/iam';
import { cdkJsonContext } from '../support/cdk';

export interface SynthesizedPlatform {
  readonly template: CfnTemplate & { Outputs?: Record<string, { Value: unknown }> };
  readonly model: IamModel;
  readonly assemblyDirectory: string;
  /** The stack's outputs, resolved for the fake environment. */
  readonly outputs: Readonly<Record<string, string>>;
}

export function synthesizePlatform(
  configure: (config: PlatformConfigInput) => PlatformConfigInput = (config) => config,
): SynthesizedPlatform {
  const { mlops, ...featureFlags } = cdkJsonContext;
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-iam-'));
  const rawConfig = configure(structuredClone(mlops) as PlatformConfigInput);
  const { app, stack } = createApp({
    rawConfig,
    appProps: { context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] }, outdir },
    policyValidation: false,
  });
  const assembly = app.synth();
  const template = assembly.getStackByName(stack.stackName).template as SynthesizedPlatform['template'];
  const model = loadIamModel(template, { stackName: stack.stackName });
  const outputs = Object.fromEntries(
    Object.entries(template.Outputs ?? {}).map(([name, output]) => [name, model.resolved.resolveString(output.Value)]),
  );
  return { template, model, assemblyDirectory: assembly.directory, outputs };
}

/**
 * cdk.json's configuration with the first model served by a SageMaker endpoint instead of Lambda,
 * with the default serving image (the platform's, built from containers/onnx-serving) and nothing
 * else: no image or initial model to bring.
 */
export function withEndpointServing(config: PlatformConfigInput): PlatformConfigInput {
  const [first, ...rest] = config.models;
  return { ...config, models: [{ ...first!, serving: { mode: 'endpoint' } }, ...rest] };
}

/** withEndpointServing with a shadow phase (shadowPercent 20): the deploy function also reads the shadow's metrics and capture. */
export function withEndpointShadow(config: PlatformConfigInput): PlatformConfigInput {
  const [first, ...rest] = withEndpointServing(config).models;
  return { ...config, models: [{ ...first!, serving: { ...first!.serving, shadowPercent: 20 } }, ...rest] };
}
