/**
 * Builds the CDK app from a raw configuration: parses it, creates the stack, tags every
 * resource, and registers the policy-validation plugins (cdk-nag packs, CloudFormation Guard).
 * Shared by bin/cdk-mlops.ts and the tests, so both check the same thing.
 */

import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { App, type AppProps, Tags, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import { type PlatformConfig, parseConfig } from '../contracts/platform-config';
import { MlopsStack } from './mlops-stack';

export interface MlopsApp {
  readonly app: App;
  readonly stack: MlopsStack;
  readonly config: PlatformConfig;
}

export interface CreateAppOptions {
  /** The `mlops` context value; read from the app's context (cdk.json) when omitted. */
  readonly rawConfig?: unknown;
  readonly appProps?: AppProps;
  /** Run cdk-nag and CloudFormation Guard at synth (the default; tests of single constructs turn it off). */
  readonly policyValidation?: boolean;
}

export function createApp(options: CreateAppOptions = {}): MlopsApp {
  const app = new App(options.appProps);
  const config = parseConfig(options.rawConfig ?? app.node.tryGetContext('mlops'));
  const stack = new MlopsStack(app, `${config.projectName}-${config.environment}`, {
    config,
    description: `cdk-mlops platform (${config.projectName}, ${config.environment})`,
  });
  const tags = { ...config.tags, Project: config.projectName, Environment: config.environment, Owner: config.owner };
  for (const [key, value] of Object.entries(tags)) Tags.of(app).add(key, value);
  if (options.policyValidation ?? true) applyPolicyChecks(app);
  return { app, stack, config };
}

/** The policy-validation plugins registered by applyPolicyChecks. */
export interface AppliedPolicyChecks {
  readonly awsSolutions: AwsSolutionsChecks;
  readonly serverless: ServerlessChecks;
  readonly guard: CfnGuardValidator;
}

/**
 * Registers the checks the platform is held to at synth: the cdk-nag AwsSolutions and Serverless
 * packs and CloudFormation Guard with the Control Tower rules. A consumer app calls it on its own
 * App to hold its stacks (the embedded platform among them) to the same rules.
 */
export function applyPolicyChecks(app: App): AppliedPolicyChecks {
  const checks = {
    awsSolutions: new AwsSolutionsChecks(app),
    serverless: new ServerlessChecks(app),
    guard: new CfnGuardValidator({ controlTowerRulesEnabled: true }),
  };
  Validations.of(app).addPlugins(checks.awsSolutions, checks.serverless, checks.guard);
  return checks;
}
