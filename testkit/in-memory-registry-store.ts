/**
 * A RegistryStore in memory with the DynamoDB adapter's semantics: changes are atomic and
 * refused with ConflictError when a revision, stage or key expectation no longer holds.
 */
import type { ApprovalRecord, AuditEvent, ModelRecord, Page, Stage, VersionRecord } from '../contracts/registry';
import { ConflictError } from '../lambdas/shared/errors';
import type { PageRequest, RegistryChange, RegistryStore, StoredRequest } from '../lambdas/shared/registry/registry-store';

const clone = <T>(value: T): T => structuredClone(value);

export class InMemoryRegistryStore implements RegistryStore {
  private readonly models = new Map<string, ModelRecord>();
  private readonly versions = new Map<string, VersionRecord>();
  private readonly events = new Map<string, AuditEvent[]>();
  private readonly requests = new Map<string, StoredRequest>();
  private readonly approvals = new Map<string, ApprovalRecord>();

  async getApproval(modelName: string, version: number) {
    const approval = this.approvals.get(`${modelName}#${version}`);
    return approval && clone(approval);
  }

  async getModel(modelName: string) {
    const model = this.models.get(modelName);
    return model && clone(model);
  }

  async listModels(page: PageRequest): Promise<Page<ModelRecord>> {
    return paginate(
      [...this.models.values()].sort((a, b) => a.modelName.localeCompare(b.modelName)),
      page,
    );
  }

  async getVersion(modelName: string, version: number) {
    const record = this.versions.get(`${modelName}#${version}`);
    return record && clone(record);
  }

  async listVersions(modelName: string, page: PageRequest & { stage?: Stage }): Promise<Page<VersionRecord>> {
    const all = [...this.versions.values()]
      .filter((v) => v.modelName === modelName && (!page.stage || v.stage === page.stage))
      .sort((a, b) => b.version - a.version);
    return paginate(all, page);
  }

  async listEvents(modelName: string, page: PageRequest): Promise<Page<AuditEvent>> {
    const all = [...(this.events.get(modelName) ?? [])].sort((a, b) =>
      a.at === b.at ? b.eventId.localeCompare(a.eventId) : b.at.localeCompare(a.at),
    );
    return paginate(all, page);
  }

  async getRequest(modelName: string, key: string) {
    const request = this.requests.get(`${modelName}#${key}`);
    return request && clone(request);
  }

  async commit(change: RegistryChange): Promise<void> {
    const name = change.model.modelName;
    const current = this.models.get(name);
    const revisionHolds = change.expectedRevision === null ? current === undefined : current?.revision === change.expectedRevision;
    const versionsHold = change.versions.every(({ record, expectedStage }) => {
      const existing = this.versions.get(`${name}#${record.version}`);
      return expectedStage === null ? existing === undefined : existing?.stage === expectedStage;
    });
    const approvalsHold = (change.approvals ?? []).every(({ record, expectedStatus }) => {
      const existing = this.approvals.get(`${name}#${record.version}`);
      return expectedStatus === null ? existing === undefined : existing?.status === expectedStatus;
    });
    if (!revisionHolds || !versionsHold || !approvalsHold || this.requestTaken(name, change.request)) {
      throw new ConflictError(`a concurrent change to model "${name}" won; read it again and retry`, { modelName: name });
    }
    this.models.set(name, clone(change.model));
    for (const { record } of change.versions) this.versions.set(`${name}#${record.version}`, clone(record));
    for (const { record } of change.approvals ?? []) this.approvals.set(`${name}#${record.version}`, clone(record));
    this.writeEvents(name, change.events, change.request);
  }

  async appendEvents(modelName: string, events: readonly AuditEvent[], request?: RegistryChange['request']): Promise<void> {
    if (this.requestTaken(modelName, request)) throw new ConflictError('request already recorded', { modelName });
    this.writeEvents(modelName, events, request);
  }

  private requestTaken(modelName: string, request: RegistryChange['request']): boolean {
    return request !== undefined && this.requests.has(`${modelName}#${request.idempotencyKey}`);
  }

  private writeEvents(modelName: string, events: readonly AuditEvent[], request: RegistryChange['request']): void {
    this.events.set(modelName, [...(this.events.get(modelName) ?? []), ...clone(events)]);
    if (request)
      this.requests.set(`${modelName}#${request.idempotencyKey}`, { requestHash: request.requestHash, resultJson: request.resultJson });
  }
}

function paginate<T>(items: T[], page: PageRequest): Page<T> {
  const start = page.cursor === undefined ? 0 : Number(page.cursor);
  const slice = items.slice(start, start + page.limit);
  const next = start + page.limit;
  return { items: clone(slice), ...(next < items.length ? { nextCursor: String(next) } : {}) };
}
