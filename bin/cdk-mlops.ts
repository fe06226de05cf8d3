#!/usr/bin/env node
import { ConfigError } from '../contracts/platform-config';
/**
 * The CDK app entry point (cdk.json "app"). A configuration error is printed as the list of
 * invalid fields and exits 1, never as a stack trace.
 */
import { createApp } from '../lib/app';

try {
  createApp().app.synth();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}
