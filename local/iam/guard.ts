/**
 * IAM enforcement for the offline runtime: a checker bound to one deployed role (a function's
 * execution role, by default) that refuses what AWS would refuse, with AWS's error name and
 * message, and an AWS SDK v3 middleware that derives each command's IAM calls (sdk-calls.ts) and
 * runs them through the checker before the request leaves, so green offline means the IAM allows it.
 */
import { lambdaFunction } from './functions';
import { iamCallsOfSdkCommand, sdkServiceOfClient, UnmodelledCallError } from './sdk-calls';
import type { ContextValues, IamModel, SimulationResult } from './simulate';

/** The error AWS returns for a denied call: `AccessDenied` from S3, `AccessDeniedException` from the JSON services. */
export class AccessDeniedError extends Error {
  readonly $fault = 'client';
  readonly $metadata = { httpStatusCode: 403 };

  constructor(
    override readonly name: 'AccessDenied' | 'AccessDeniedException',
    message: string,
    /** The simulator's reasoning, for a person reading the failure (AWS does not say this much). */
    readonly explanation: string,
  ) {
    super(message);
  }
}

/** Throws AccessDeniedError when the role may not make the call. */
export type IamChecker = (action: string, resource: string, context?: ContextValues) => Promise<void>;

export type GuardTarget = { readonly functionLogicalId: string } | { readonly role: string; readonly sessionName?: string };

/** A checker for a Lambda function's execution role (session named after the function, as Lambda does), or for any role. */
export function iamGuard(model: IamModel, target: GuardTarget): IamChecker {
  const { role, sessionName } =
    'functionLogicalId' in target
      ? (() => {
          const fn = lambdaFunction(model, target.functionLogicalId);
          return { role: fn.role, sessionName: fn.functionName };
        })()
      : target;
  return async (action, resource, context) => {
    const result = await model.simulate({
      role,
      action,
      resource,
      ...(context ? { context } : {}),
      ...(sessionName ? { sessionName } : {}),
    });
    if (!result.allowed) throw accessDenied(action, resource, result);
  };
}

/** AWS's wording: "User: <session ARN> is not authorized to perform: <action> on resource: <arn> because ...". */
export function accessDenied(action: string, resource: string, result: SimulationResult): AccessDeniedError {
  const onResource = result.evaluatedResource === '*' ? '' : ` on resource: ${resource}`;
  const because =
    result.decision === 'ExplicitlyDenied'
      ? `with an explicit deny in ${/resource policy|key policy/.test(result.explanation) ? 'a resource-based' : 'an identity-based'} policy`
      : `because no identity-based policy allows the ${action} action`;
  const name = action.startsWith('s3:') ? 'AccessDenied' : 'AccessDeniedException';
  return new AccessDeniedError(
    name,
    `User: ${result.principal} is not authorized to perform: ${action}${onResource} ${because}`,
    result.explanation,
  );
}

/** The smallest part of a client the middleware needs (every AWS SDK v3 client has it). */
export interface MiddlewareClient {
  readonly middlewareStack: {
    add(middleware: unknown, options: { step: 'initialize'; name: string; priority?: 'high' | 'normal' | 'low' }): void;
  };
}

interface HandlerContext {
  readonly clientName?: string;
  readonly commandName?: string;
}

/**
 * Adds the IAM check to a client: at the initialize step, before serialisation, signing or any
 * network I/O, every IAM call the command implies is checked; a denied one rejects the send with
 * the AccessDenied error the service would return.
 */
export function guardClient<T extends MiddlewareClient>(
  client: T,
  model: IamModel,
  check: IamChecker,
  /** Maps a command's input to what it would be when deployed (the offline runtime's local names to the stack's). */
  deployedInput: (input: Record<string, unknown>) => Record<string, unknown> = (input) => input,
): T {
  const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
  client.middlewareStack.add(
    (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: HandlerContext) =>
      async (args: { input: Record<string, unknown> }) => {
        const service = context.clientName ? sdkServiceOfClient(context.clientName) : undefined;
        if (!service || !context.commandName) {
          throw new UnmodelledCallError(
            `the IAM guard cannot map ${context.clientName ?? 'an unnamed client'} ${context.commandName ?? ''}`,
          );
        }
        for (const call of iamCallsOfSdkCommand(service, context.commandName, deployedInput(args.input), scope)) {
          await check(call.action, call.resource, call.context).catch((error: unknown) => {
            // The error comes from the service called: S3 answers AccessDenied even when KMS refused.
            const name = service === 's3' ? 'AccessDenied' : 'AccessDeniedException';
            throw error instanceof AccessDeniedError ? new AccessDeniedError(name, error.message, error.explanation) : error;
          });
        }
        return next(args);
      },
    { step: 'initialize', name: 'cdkMlopsIamGuard', priority: 'high' },
  );
  return client;
}
