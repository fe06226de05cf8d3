/**
 * The deployed stack's IAM, enforced by the offline runtime: every AWS call a function, a state
 * or a training job makes offline is first checked against the role it would run as after
 * `cdk deploy` (the synthesized template's policies, simulated with AWS's rules by local/iam), and
 * refused the way AWS refuses it. Green offline then means the IAM allows it.
 *
 * The runtime names its resources locally (`local-artifacts`, `local-registry`, local function
 * and role ARNs); each call is translated to the deployed names first, from the template's outputs
 * and each training state machine's definition and substitutions.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  type AslMachine,
  accessDenied,
  type CfnTemplate,
  type FunctionInfo,
  guardClient,
  type IamCall,
  type IamChecker,
  type IamModel,
  iamCallsOfSdkCommand,
  iamGuard,
  lambdaFunctions,
  loadIamModel,
  type MiddlewareClient,
  type SdkService,
  stateMachineDefinition,
  taskStateCalls,
} from './iam';

/** Where the runtime's own names come from: its account, region, buckets and table. */
export interface LocalResourceNames {
  readonly account: string;
  readonly region: string;
  readonly buckets: { readonly datasets: string; readonly artifacts: string; readonly capture: string };
  readonly registryTable: string;
}

/** A synthesized cloud assembly: the directory `cdk synth` wrote, and the stack's name. */
export interface DeployedAssembly {
  readonly assemblyDirectory: string;
  readonly stackName: string;
}

type Translate = <T>(value: T) => T;

interface TrainingMachine {
  readonly roleLogicalId: string;
  readonly substitutions: Readonly<Record<string, unknown>>;
  readonly definition: AslMachine;
}

/** Output names of the platform stack the translation reads (lib/mlops-stack.ts). */
const OUTPUTS = {
  datasets: 'DatasetsBucketName',
  artifacts: 'ArtifactsBucketName',
  capture: 'CaptureBucketName',
  table: 'RegistryTableName',
} as const;

export class DeployedIam {
  private readonly functions: FunctionInfo[];
  private readonly machines = new Map<string, TrainingMachine>();
  private readonly outputs: Readonly<Record<string, string>>;
  private readonly decisions = new Map<string, Promise<void>>();

  private constructor(
    readonly model: IamModel,
    private readonly local: LocalResourceNames,
    assemblyDirectory: string,
  ) {
    this.functions = lambdaFunctions(model);
    const template = model.resolved.template as CfnTemplate & { Outputs?: Record<string, { Value: unknown }> };
    this.outputs = Object.fromEntries(
      Object.entries(template.Outputs ?? {}).map(([name, output]) => [name, model.resolved.resolveString(output.Value)]),
    );
    for (const name of Object.values(OUTPUTS)) {
      if (!this.outputs[name]) throw new Error(`the synthesized stack has no ${name} output; the offline IAM check needs it`);
    }
    for (const logicalId of model.resolved.logicalIdsOfType('AWS::StepFunctions::StateMachine')) {
      const properties = model.resolved.resolve(model.resolved.resource(logicalId).Properties ?? {}) as {
        RoleArn: string;
        DefinitionSubstitutions?: Record<string, unknown>;
      };
      const substitutions = properties.DefinitionSubstitutions ?? {};
      if (typeof substitutions.ModelName !== 'string') continue;
      // The training pipeline only, for now (the batch inference pipeline has a ModelName too).
      if (substitutions.BatchScoreFunctionArn !== undefined) continue;
      this.machines.set(substitutions.ModelName, {
        roleLogicalId: model.role(properties.RoleArn).logicalId,
        substitutions,
        definition: stateMachineDefinition(model, logicalId, assemblyDirectory),
      });
    }
  }

  /** Reads `<stackName>.template.json` of an assembly; its ARNs are placed in the runtime's account and region. */
  static load(assembly: DeployedAssembly, local: LocalResourceNames): DeployedIam {
    const file = path.join(assembly.assemblyDirectory, `${assembly.stackName}.template.json`);
    if (!existsSync(file)) throw new Error(`no synthesized template at ${file}; synthesize the stack first (npm run synth)`);
    const template = JSON.parse(readFileSync(file, 'utf8')) as CfnTemplate;
    const model = loadIamModel(template, { account: local.account, region: local.region, stackName: assembly.stackName });
    return new DeployedIam(model, local, assembly.assemblyDirectory);
  }

  /**
   * A client checked as a deployed function's execution role: the function running `codeFolder`
   * (lambdas/<codeFolder>), the one serving `modelName` when each model has its own.
   */
  guardFunctionClient<T extends MiddlewareClient>(client: T, codeFolder: string, modelName?: string): T {
    const fn = this.functionOf(codeFolder, modelName);
    return guardClient(
      client,
      this.model,
      this.cached(`function:${fn.logicalId}`, iamGuard(this.model, { functionLogicalId: fn.logicalId })),
      (input) => this.translate()(input),
    );
  }

  /**
   * Checks what a Task state of a model's training pipeline makes AWS do, before the offline
   * runtime does it: the state machine role's call for the integration and, for a training job,
   * what SageMaker then does as the training role (read the channels, write the model, encrypt).
   * Throws the AccessDenied error AWS would return, naming the role.
   */
  async checkTask(modelName: string, localSubstitutions: Readonly<Record<string, string>>, state: string, input: unknown): Promise<void> {
    const machine = this.machines.get(modelName);
    if (!machine) throw new Error(`the synthesized stack has no training pipeline for model "${modelName}"`);
    const translate = this.translate(modelName, localSubstitutions);
    const parameters = translate(input) as Record<string, unknown>;
    const resource = taskResource(machine.definition, state);
    const scope = { environment: this.model.environment, encryptionOf: (arn: string) => this.model.encryptionOf(arn) };
    const sdk = (service: SdkService, command: string, request: Record<string, unknown>) =>
      iamCallsOfSdkCommand(service, command, request, scope);
    const calls = taskStateCalls(this.model, state, resource, parameters, machine.roleLogicalId, sdk);
    for (const call of calls) {
      await this.decide(call.role, call.action, call.resource, call.context, `${call.origin}${call.because ? ` (${call.because})` : ''}`);
    }
  }

  /** The deployed function running lambdas/<codeFolder> (for `modelName`, when functions are per model). */
  private functionOf(codeFolder: string, modelName?: string): FunctionInfo {
    const candidates = this.functions.filter((fn) => fn.codeFolder === codeFolder);
    const chosen =
      candidates.length <= 1 || modelName === undefined
        ? candidates[0]
        : candidates.find((fn) => Object.values(fn.environment).some((value) => mentionsModel(value, modelName)));
    if (!chosen) {
      throw new Error(`the synthesized stack has no function running lambdas/${codeFolder}${modelName ? ` for model "${modelName}"` : ''}`);
    }
    return chosen;
  }

  /** Local names to deployed ones: buckets (as names and in s3:// URIs), the table and, per model, its pipeline's ARNs. */
  private translate(modelName?: string, localSubstitutions: Readonly<Record<string, string>> = {}): Translate {
    const exact = new Map<string, string>([
      [this.local.buckets.datasets, this.outputs[OUTPUTS.datasets]!],
      [this.local.buckets.artifacts, this.outputs[OUTPUTS.artifacts]!],
      [this.local.buckets.capture, this.outputs[OUTPUTS.capture]!],
      [this.local.registryTable, this.outputs[OUTPUTS.table]!],
    ]);
    const prefixes: Array<[string, string]> = [...exact]
      .filter(([local]) => local !== this.local.registryTable)
      .map(([local, deployed]) => [`s3://${local}/`, `s3://${deployed}/`]);
    const machine = modelName === undefined ? undefined : this.machines.get(modelName);
    if (machine) {
      const deployed = { ...pipelineValues(machine.definition), ...machine.substitutions } as Record<string, unknown>;
      for (const [key, local] of Object.entries(localSubstitutions)) {
        const value = deployed[key];
        if (typeof value === 'string' && value !== local && /Arn$|Bucket$|CodeUri$/.test(key)) exact.set(local, value);
      }
      if (typeof deployed.JobNamePrefix === 'string' && localSubstitutions.JobNamePrefix) {
        prefixes.push([`${localSubstitutions.JobNamePrefix}-`, `${deployed.JobNamePrefix}-`]);
      }
    }
    const walk = (value: unknown): unknown => {
      if (typeof value === 'string') {
        const hit = exact.get(value);
        if (hit !== undefined) return hit;
        for (const [from, to] of prefixes) if (value.startsWith(from)) return `${to}${value.slice(from.length)}`;
        return value;
      }
      if (Array.isArray(value)) return value.map(walk);
      if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, walk(item)]));
      }
      return value;
    };
    return walk as Translate;
  }

  /** The same question gets the same answer: a role's decisions are kept per call and context. */
  private cached(roleKey: string, check: IamChecker): IamChecker {
    return (action, resource, context) => {
      const key = JSON.stringify([roleKey, action, resource, context ?? null]);
      let decision = this.decisions.get(key);
      if (!decision) {
        decision = check(action, resource, context);
        this.decisions.set(key, decision);
      }
      return decision;
    };
  }

  private async decide(role: string, action: string, resource: string, context: IamCall['context'], origin: string): Promise<void> {
    const key = JSON.stringify([`role:${role}`, action, resource, context ?? null]);
    let decision = this.decisions.get(key);
    if (!decision) {
      decision = this.model.simulate({ role, action, resource, ...(context ? { context } : {}) }).then((result) => {
        if (!result.allowed) {
          const error = accessDenied(action, resource, result);
          error.message = `${origin}: ${error.message}`;
          throw error;
        }
      });
      this.decisions.set(key, decision);
    }
    return decision;
  }
}

/** Whether a function's environment value names the model: MODEL_NAME, or a JSON document whose top-level name is it. */
function mentionsModel(value: string, modelName: string): boolean {
  if (value === modelName) return true;
  if (!value.startsWith('{')) return false;
  try {
    const document = JSON.parse(value) as { name?: unknown; modelName?: unknown };
    return document.name === modelName || document.modelName === modelName;
  } catch {
    return false;
  }
}

/** The Resource of a Task state of the definition, wherever it is nested. */
function taskResource(definition: AslMachine, state: string): string {
  const visit = (machine: AslMachine): string | undefined => {
    for (const [name, candidate] of Object.entries(machine.States)) {
      if (name === state && candidate.Type === 'Task' && candidate.Resource) return candidate.Resource;
      for (const nested of [candidate.ItemProcessor, candidate.Iterator, ...(candidate.Branches ?? [])]) {
        const found = nested ? visit(nested) : undefined;
        if (found) return found;
      }
    }
    return undefined;
  };
  const resource = visit(definition);
  if (!resource) throw new Error(`the deployed training pipeline has no Task state "${state}"`);
  return resource;
}

/** Values the deployed definition holds literally rather than as substitutions: the training code's location. */
function pipelineValues(definition: AslMachine): Record<string, string> {
  const values: Record<string, string> = {};
  for (const state of Object.values(definition.States)) {
    const channels = (
      state.Parameters as
        | { InputDataConfig?: Array<{ ChannelName?: string; DataSource?: { S3DataSource?: { S3Uri?: unknown } } }> }
        | undefined
    )?.InputDataConfig;
    const code = channels?.find((channel) => channel.ChannelName === 'code')?.DataSource?.S3DataSource?.S3Uri;
    if (typeof code === 'string') values.TrainingCodeUri = code;
  }
  return values;
}
