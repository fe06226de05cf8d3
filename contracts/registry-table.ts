/**
 * The registry's single-table key design, shared by the CDK construct that creates the
 * table, the DynamoDB adapter that reads and writes it, and the tests that create it locally.
 *
 *   PK = MODEL#<name>   SK = META                      counters and stage pointers
 *                       SK = VERSION#<000042>          one immutable version (stage mutable)
 *                       SK = EVENT#<iso-time>#<id>     audit trail
 *                       SK = REQUEST#<idempotency key> result of an idempotent request
 *                       SK = APPROVAL#<000042>         a run waiting for approval of a version
 *   GSI1 (overloaded, sparse):
 *     versions:  GSI1PK = STAGE#<stage>  GSI1SK = MODEL#<name>#VERSION#<000042>
 *     models:    GSI1PK = MODELS         GSI1SK = MODEL#<name>
 */

export const REGISTRY_TABLE_SCHEMA = {
  partitionKey: 'PK',
  sortKey: 'SK',
  byStageIndex: { indexName: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
} as const;

/** Version numbers are zero-padded so that string order is numeric order. */
export const VERSION_DIGITS = 6;
export const MAX_VERSION = 10 ** VERSION_DIGITS - 1;

export const keys = {
  model: (modelName: string) => `MODEL#${modelName}`,
  meta: () => 'META',
  version: (version: number) => `VERSION#${String(version).padStart(VERSION_DIGITS, '0')}`,
  versionPrefix: () => 'VERSION#',
  event: (at: string, eventId: string) => `EVENT#${at}#${eventId}`,
  eventPrefix: () => 'EVENT#',
  request: (idempotencyKey: string) => `REQUEST#${idempotencyKey}`,
  approval: (version: number) => `APPROVAL#${String(version).padStart(VERSION_DIGITS, '0')}`,
  stage: (stage: string) => `STAGE#${stage}`,
  modelVersion: (modelName: string, version: number) => `MODEL#${modelName}#${keys.version(version)}`,
  modelVersionPrefix: (modelName: string) => `MODEL#${modelName}#VERSION#`,
  models: () => 'MODELS',
} as const;
