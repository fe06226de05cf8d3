/** The `api` section of the platform configuration: defaults, and each rule naming its field. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type PlatformConfigInput, parseConfig } from '../contracts/platform-config';
import { PROJECT_ROOT } from '../contracts/project-root';

const shipped = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context.mlops as PlatformConfigInput;

function issuesOf(api: unknown): string[] {
  try {
    parseConfig({ ...shipped, api });
  } catch (error) {
    if (error instanceof ConfigError) return error.issues;
    throw error;
  }
  throw new Error('expected the configuration to be refused');
}

describe('config api', () => {
  it("defaults to stage v1, 50 requests/s with a burst of 100, IAM auth, no WAF, no quota, and the account's logging role left alone", () => {
    expect(parseConfig(shipped).api).toEqual({
      stageName: 'v1',
      throttleRatePerSecond: 50,
      throttleBurst: 100,
      waf: false,
      wafRateLimitPer5Minutes: 2000,
      cloudWatchRole: false,
    });
  });

  it('accepts a Cognito user pool, a quota and WAF', () => {
    const api = {
      cognitoUserPoolArn: 'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbC123',
      quotaPerDay: 50_000,
      waf: true,
      wafRateLimitPer5Minutes: 300,
    };
    expect(parseConfig({ ...shipped, api }).api).toMatchObject(api);
  });

  it('names the field and the rule of each invalid setting', () => {
    // A burst below the rate is API Gateway's own account default (10,000 per second, burst 5,000): allowed.
    expect(parseConfig({ ...shipped, api: { throttleRatePerSecond: 10_000, throttleBurst: 5000 } }).api).toMatchObject({
      throttleRatePerSecond: 10_000,
      throttleBurst: 5000,
    });
    expect(issuesOf({ throttleBurst: 5001 })[0]).toMatch(/^mlops\.api\.throttleBurst: Too big: expected number to be <=5000/);
    expect(issuesOf({ cognitoUserPoolArn: 'eu-west-1_AbC123' })).toEqual([
      'mlops.api.cognitoUserPoolArn: must be a Cognito user pool ARN (got "eu-west-1_AbC123")',
    ]);
    expect(issuesOf({ stageName: 'v-1' })).toEqual(['mlops.api.stageName: must be 1-64 letters, digits or _ (got "v-1")']);
    expect(issuesOf({ wafRateLimitPer5Minutes: 5 })[0]).toMatch(/^mlops\.api\.wafRateLimitPer5Minutes: Too small/);
    expect(issuesOf({ tls: true })[0]).toMatch(/^mlops\.api: Unrecognized key: "tls"/);
  });
});
