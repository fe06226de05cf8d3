import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JavaMissingError, javaProblem, startDynamoDbLocal } from '../../local/dynamodb-local';

describe('DynamoDB Local without Java', () => {
  const path0 = process.env.PATH;
  const empty = mkdtempSync(path.join(tmpdir(), 'no-java-'));
  afterEach(() => {
    process.env.PATH = path0;
  });

  it('is refused with a JavaMissingError that says what to install, not an unhandled spawn error', async () => {
    process.env.PATH = empty;
    expect(javaProblem()).toBeInstanceOf(JavaMissingError);
    const started = startDynamoDbLocal({ startTimeoutMs: 5000 });
    await expect(started).rejects.toBeInstanceOf(JavaMissingError);
    await expect(started).rejects.toThrow(/needs Java 17 or newer, and no `java` is on PATH: apt-get install -y openjdk-17-jre-headless/);
    rmSync(empty, { recursive: true, force: true });
  });

  it('is found on this machine', () => {
    expect(javaProblem()).toBeUndefined();
  });
});
