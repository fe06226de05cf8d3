import { readFileSync } from 'node:fs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../lib/app';

/** cdk.json's context: the mlops configuration and the feature flags the stack is built with. */
const context = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;

describe('DataValidation construct', () => {
  let template: Template;
  let functionLogicalId: string;

  beforeAll(() => {
    const { stack } = createApp({ appProps: { context }, policyValidation: false });
    template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Description: Match.stringLikeRegexp('^cdk-mlops validate-data') },
    });
    expect(Object.keys(functions)).toHaveLength(1);
    functionLogicalId = Object.keys(functions)[0]!;
  });

  it('deploys the validate-data function with the artifacts bucket, a full vCPU and fifteen minutes', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: Match.stringLikeRegexp('^cdk-mlops validate-data'),
      MemorySize: 2048,
      Timeout: 900,
      Architectures: ['arm64'],
      Environment: { Variables: Match.objectLike({ ARTIFACTS_BUCKET: { Ref: Match.stringLikeRegexp('^ArtifactStoreArtifacts') } }) },
    });
  });

  it("lets the function write only under its model's profile, report, quarantine and split prefixes, and never delete", () => {
    const role = template.toJSON().Resources[functionLogicalId].Properties.Role['Fn::GetAtt'][0];
    const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((policy) =>
      (policy as { Properties: { Roles: { Ref: string }[] } }).Properties.Roles.some((reference) => reference.Ref === role),
    );
    const statements = policies.flatMap(
      (policy) => (policy as { Properties: { PolicyDocument: { Statement: unknown[] } } }).Properties.PolicyDocument.Statement,
    );
    const writes = statements.filter((statement) => JSON.stringify(statement).includes('s3:PutObject'));
    // CDK merges statements with equal actions, so gather the prefixes of every written resource.
    const writtenPrefixes = writes.flatMap((statement) =>
      [...JSON.stringify((statement as { Resource: unknown }).Resource).matchAll(/\/(\w+)\/(\w+)\/\*/g)].map(
        (match) => `${match[1]}/${match[2]}`,
      ),
    );
    // Only its own model's keys: a run of one model cannot write another's profiles, reports or splits.
    expect(writtenPrefixes.sort()).toEqual(['profiles/churn', 'quarantine/churn', 'reports/churn', 'splits/churn']);
    expect(JSON.stringify(statements)).not.toMatch(/s3:DeleteObject/);
  });
});
