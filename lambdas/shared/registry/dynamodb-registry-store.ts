/**
 * RegistryStore on DynamoDB: one TransactWriteItems per change, each item conditioned so
 * that a concurrent change cancels the whole transaction (surfaced as ConflictError).
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { ApprovalRecord, AuditEvent, ModelRecord, Page, VersionRecord } from '../../../contracts/registry';
import { keys, REGISTRY_TABLE_SCHEMA } from '../../../contracts/registry-table';
import { ConflictError, ValidationError } from '../errors';
import type { PageRequest, RegistryChange, RegistryStore, StoredRequest } from './registry-store';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type Item = Record<string, unknown>;

const { partitionKey: PK, sortKey: SK, byStageIndex } = REGISTRY_TABLE_SCHEMA;
const KEY_ATTRIBUTES = [PK, SK, byStageIndex.partitionKey, byStageIndex.sortKey, 'entity'];

export class DynamoDbRegistryStore implements RegistryStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async getModel(modelName: string): Promise<ModelRecord | undefined> {
    return this.get<ModelRecord>(keys.model(modelName), keys.meta());
  }

  async listModels(page: PageRequest): Promise<Page<ModelRecord>> {
    return this.query<ModelRecord>(
      {
        IndexName: byStageIndex.indexName,
        KeyConditionExpression: '#pk = :pk',
        ExpressionAttributeNames: { '#pk': byStageIndex.partitionKey },
        ExpressionAttributeValues: { ':pk': keys.models() },
      },
      page,
      true,
      indexCursor(keys.models()),
    );
  }

  async getVersion(modelName: string, version: number): Promise<VersionRecord | undefined> {
    return this.get<VersionRecord>(keys.model(modelName), keys.version(version));
  }

  async listVersions(modelName: string, page: PageRequest & { stage?: VersionRecord['stage'] }): Promise<Page<VersionRecord>> {
    if (page.stage) {
      return this.query<VersionRecord>(
        {
          IndexName: byStageIndex.indexName,
          KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': byStageIndex.partitionKey, '#sk': byStageIndex.sortKey },
          ExpressionAttributeValues: { ':pk': keys.stage(page.stage), ':prefix': keys.modelVersionPrefix(modelName) },
        },
        page,
        false,
        indexCursor(keys.stage(page.stage), keys.modelVersionPrefix(modelName)),
      ); // GSIs are eventually consistent: a stage change shows here within a second or so.
    }
    return this.queryPartition<VersionRecord>(modelName, keys.versionPrefix(), page);
  }

  async listEvents(modelName: string, page: PageRequest): Promise<Page<AuditEvent>> {
    return this.queryPartition<AuditEvent>(modelName, keys.eventPrefix(), page);
  }

  async getRequest(modelName: string, idempotencyKey: string): Promise<StoredRequest | undefined> {
    const item = await this.get<StoredRequest>(keys.model(modelName), keys.request(idempotencyKey));
    return item && { requestHash: item.requestHash, resultJson: item.resultJson };
  }

  async getApproval(modelName: string, version: number): Promise<ApprovalRecord | undefined> {
    return this.get<ApprovalRecord>(keys.model(modelName), keys.approval(version));
  }

  async commit(change: RegistryChange): Promise<void> {
    const { model } = change;
    const modelKey = keys.model(model.modelName);
    const items: TransactItem[] = [
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...model,
            [PK]: modelKey,
            [SK]: keys.meta(),
            [byStageIndex.partitionKey]: keys.models(),
            [byStageIndex.sortKey]: modelKey,
            entity: 'model',
          },
          ...(change.expectedRevision === null
            ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
            : {
                ConditionExpression: '#revision = :expected',
                ExpressionAttributeNames: { '#revision': 'revision' },
                ExpressionAttributeValues: { ':expected': change.expectedRevision },
              }),
        },
      },
      ...change.versions.map(
        ({ record, expectedStage }): TransactItem => ({
          Put: {
            TableName: this.tableName,
            Item: {
              ...record,
              [PK]: modelKey,
              [SK]: keys.version(record.version),
              [byStageIndex.partitionKey]: keys.stage(record.stage),
              [byStageIndex.sortKey]: keys.modelVersion(record.modelName, record.version),
              entity: 'version',
            },
            ...(expectedStage === null
              ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
              : {
                  ConditionExpression: '#stage = :expectedStage',
                  ExpressionAttributeNames: { '#stage': 'stage' },
                  ExpressionAttributeValues: { ':expectedStage': expectedStage },
                }),
          },
        }),
      ),
      ...(change.approvals ?? []).map(
        ({ record, expectedStatus }): TransactItem => ({
          Put: {
            TableName: this.tableName,
            Item: { ...record, [PK]: modelKey, [SK]: keys.approval(record.version), entity: 'approval' },
            ...(expectedStatus === null
              ? { ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: { '#pk': PK } }
              : {
                  ConditionExpression: '#status = :expectedStatus',
                  ExpressionAttributeNames: { '#status': 'status' },
                  ExpressionAttributeValues: { ':expectedStatus': expectedStatus },
                }),
          },
        }),
      ),
      ...this.eventPuts(change.events, change.request, modelKey),
    ];
    await this.transact(items, model.modelName);
  }

  async appendEvents(modelName: string, events: readonly AuditEvent[], request?: RegistryChange['request']): Promise<void> {
    await this.transact(this.eventPuts(events, request, keys.model(modelName)), modelName);
  }

  private eventPuts(events: readonly AuditEvent[], request: RegistryChange['request'], modelKey: string): TransactItem[] {
    const puts: TransactItem[] = events.map((event) =>
      this.putNew({ ...event, [PK]: modelKey, [SK]: keys.event(event.at, event.eventId), entity: 'event' }),
    );
    if (request) {
      puts.push(
        this.putNew({
          [PK]: modelKey,
          [SK]: keys.request(request.idempotencyKey),
          requestHash: request.requestHash,
          resultJson: request.resultJson,
          entity: 'request',
        }),
      );
    }
    return puts;
  }

  private putNew(item: Item): TransactItem {
    return {
      Put: {
        TableName: this.tableName,
        Item: item,
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
    };
  }

  private async transact(items: TransactItem[], modelName: string): Promise<void> {
    try {
      await this.client.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (error) {
      if (error instanceof TransactionCanceledException) {
        const reasons = (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
        throw new ConflictError(`a concurrent change to model "${modelName}" won; read it again and retry`, { modelName, reasons });
      }
      throw error;
    }
  }

  private async get<T>(pk: string, sk: string): Promise<T | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: pk, [SK]: sk }, ConsistentRead: true }),
    );
    return Item ? (stripKeys(Item) as T) : undefined;
  }

  private queryPartition<T>(modelName: string, prefix: string, page: PageRequest): Promise<Page<T>> {
    return this.query<T>(
      {
        KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
        ExpressionAttributeNames: { '#pk': PK, '#sk': SK },
        ExpressionAttributeValues: { ':pk': keys.model(modelName), ':prefix': prefix },
        ConsistentRead: true,
      },
      page,
      false,
      { attributes: [PK, SK], matches: (key) => key[PK] === keys.model(modelName) && key[SK]!.startsWith(prefix) },
    );
  }

  private async query<T>(
    input: Omit<QueryCommandInput, 'TableName'>,
    page: PageRequest,
    ascending: boolean,
    cursorScope: CursorScope,
  ): Promise<Page<T>> {
    const { Items = [], LastEvaluatedKey } = await this.client.send(
      new QueryCommand({
        ...input,
        TableName: this.tableName,
        Limit: page.limit,
        ScanIndexForward: ascending,
        ExclusiveStartKey: page.cursor === undefined ? undefined : decodeCursor(page.cursor, cursorScope),
      }),
    );
    return {
      items: Items.map((item) => stripKeys(item) as T),
      ...(LastEvaluatedKey ? { nextCursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }
}

function stripKeys(item: Item): Item {
  const record = { ...item };
  for (const attribute of KEY_ATTRIBUTES) delete record[attribute];
  return record;
}

function encodeCursor(key: Item): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/**
 * What a cursor of one query may hold: exactly the key attributes DynamoDB returns as its
 * LastEvaluatedKey (the table's keys, and the index's for an index query), with values inside the
 * query's own partition and sort-key prefix. A cursor from another query, another model or a
 * crafted one is refused before DynamoDB sees it.
 */
interface CursorScope {
  readonly attributes: readonly string[];
  readonly matches: (key: Readonly<Record<string, string>>) => boolean;
}

/** A query of the GSI1 index (models, or versions by stage), within a partition and, optionally, a sort-key prefix. */
function indexCursor(partition: string, sortPrefix = ''): CursorScope {
  return {
    attributes: [PK, SK, byStageIndex.partitionKey, byStageIndex.sortKey],
    matches: (key) => key[byStageIndex.partitionKey] === partition && key[byStageIndex.sortKey]!.startsWith(sortPrefix),
  };
}

/** Longest key value a cursor may carry (the table's keys are far shorter; DynamoDB allows 2,048 bytes for a partition key). */
const MAX_CURSOR_KEY_LENGTH = 1024;

function decodeCursor(cursor: string, scope: CursorScope): Item {
  let key: unknown;
  try {
    key =
      cursor.length <= 8192 && /^[A-Za-z0-9_-]+$/.test(cursor) ? JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) : undefined;
  } catch {
    key = undefined;
  }
  const record = key && typeof key === 'object' && !Array.isArray(key) ? (key as Record<string, unknown>) : undefined;
  const names = record ? Object.keys(record).sort() : [];
  const valid =
    record !== undefined &&
    names.length === scope.attributes.length &&
    [...scope.attributes].sort().every((name, index) => names[index] === name) &&
    names.every(
      (name) =>
        typeof record[name] === 'string' && (record[name] as string).length > 0 && (record[name] as string).length <= MAX_CURSOR_KEY_LENGTH,
    ) &&
    scope.matches(record as Record<string, string>);
  if (!valid) {
    throw new ValidationError('cursor is not one this query returned; pass nextCursor from the previous page of the same list unchanged', {
      cursor: cursor.slice(0, 200),
    });
  }
  return record as Item;
}
