/**
 * Stacks for construct tests, with cdk.json's feature flags. Lambda bundling is skipped (the
 * bundles are checked by scripts/bundle-size.ts and the full synth), so a Template assertion
 * costs milliseconds.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../contracts/project-root';

/** cdk.json's context: the feature flags and the `mlops` platform configuration. */
export const cdkJsonContext = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context as Record<string, unknown>;

export function testStack(): Stack {
  const { mlops: _mlops, ...featureFlags } = cdkJsonContext;
  const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'Test');
}

/** Every IAM policy statement in the template, flattened. */
export function policyStatements(template: Template): Array<Record<string, unknown>> {
  return Object.values(template.findResources('AWS::IAM::Policy')).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties.PolicyDocument.Statement,
  );
}

export const asArray = <T>(value: T | T[]): T[] => (Array.isArray(value) ? value : [value]);

export { Match, Template };
