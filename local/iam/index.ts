/**
 * Offline IAM: AWS's authorisation rules applied to a synthesized template, for the tests and the
 * offline runtime. See docs in each module; this file only gathers the public API.
 */
export { AWS_MANAGED_POLICIES, type PolicyDocument, type PolicyStatement } from './aws-managed-policies';
export { commandsOf, type FunctionCodeScan, type SdkCommandUse, scanFunctionCode } from './code-scan';
export {
  apiGatewayIntegrationCalls,
  type FunctionInfo,
  lambdaFunction,
  lambdaFunctions,
  lambdaServiceCalls,
  type ServiceRoleCall,
  sageMakerHostingCalls,
  schedulerCalls,
} from './functions';
export { AccessDeniedError, accessDenied, type GuardTarget, guardClient, type IamChecker, iamGuard, type MiddlewareClient } from './guard';
export type { KmsEncryption, NamedPolicy, ResourcePolicy, RolePolicies } from './policies';
export {
  type CallScope,
  type IamCall,
  iamCallsOfSdkCommand,
  type SdkService,
  sdkServiceOfClient,
  sdkServiceOfPackage,
  UnmodelledCallError,
} from './sdk-calls';
export {
  type ContextValues,
  type Decision,
  IamModel,
  loadIamModel,
  type SimulationRequest,
  type SimulationResult,
} from './simulate';
export {
  type AslMachine,
  EXAMPLE_EXECUTION_NAME,
  materialize,
  type RoleCall,
  type Sdk,
  type StateMachineCallOptions,
  stateMachineCalls,
  stateMachineDefinition,
  taskStateCalls,
  trainingRoleCalls,
} from './state-machine-calls';
export { type CfnTemplate, DEFAULT_ENVIRONMENT, type IamEnvironment, ResolvedTemplate, UnresolvableIntrinsicError } from './template';

import { type IamEnvironment as Environment, ResolvedTemplate as Resolved, type CfnTemplate as Template } from './template';

/** The ARN (or another ARN attribute) `logicalId` has when `template` is deployed to the fake environment. */
export function arnOf(template: Template, logicalId: string, attribute = 'Arn', environment: Partial<Environment> = {}): string {
  return new Resolved(template, environment).arnOf(logicalId, attribute);
}
