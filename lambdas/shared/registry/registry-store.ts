/**
 * What the registry domain needs from storage. A change is applied all-or-nothing, and
 * only if the model's revision is still the one the domain read (optimistic locking);
 * otherwise the store throws ConflictError and writes nothing.
 */
import type { ApprovalRecord, ApprovalStatus, AuditEvent, ModelRecord, Page, Stage, VersionRecord } from '../../../contracts/registry';

export interface StoredRequest {
  /** SHA-256 of the canonical request, to tell a retry from a reuse of the key. */
  readonly requestHash: string;
  /** JSON of the result returned the first time. */
  readonly resultJson: string;
}

export interface RegistryChange {
  /** The model record after the change; `revision` must be expectedRevision + 1. */
  readonly model: ModelRecord;
  /** The revision read before the change; null when the model record must not exist yet. */
  readonly expectedRevision: number | null;
  /** Versions written; `expectedStage` null means the version must not exist yet. */
  readonly versions: ReadonlyArray<{ readonly record: VersionRecord; readonly expectedStage: Stage | null }>;
  readonly events: readonly AuditEvent[];
  /** Approvals written; `expectedStatus` null means none may exist for that version yet. */
  readonly approvals?: ReadonlyArray<{ readonly record: ApprovalRecord; readonly expectedStatus: ApprovalStatus | null }>;
  /** Recorded only if no request with this key exists, in the same atomic write. */
  readonly request?: { readonly idempotencyKey: string } & StoredRequest;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}

export interface RegistryStore {
  getModel(modelName: string): Promise<ModelRecord | undefined>;
  listModels(page: PageRequest): Promise<Page<ModelRecord>>;
  getVersion(modelName: string, version: number): Promise<VersionRecord | undefined>;
  /** Newest first; with `stage`, only versions in that stage. */
  listVersions(modelName: string, page: PageRequest & { readonly stage?: Stage }): Promise<Page<VersionRecord>>;
  /** Newest first. */
  listEvents(modelName: string, page: PageRequest): Promise<Page<AuditEvent>>;
  getRequest(modelName: string, idempotencyKey: string): Promise<StoredRequest | undefined>;
  getApproval(modelName: string, version: number): Promise<ApprovalRecord | undefined>;
  /** Atomically applies the change; throws ConflictError if any expectation no longer holds. */
  commit(change: RegistryChange): Promise<void>;
  /** Appends events that change no state (pipeline failures); idempotent per request key. */
  appendEvents(modelName: string, events: readonly AuditEvent[], request?: RegistryChange['request']): Promise<void>;
}
