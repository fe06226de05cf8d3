/**
 * Assertion helpers of the IAM tests: simulate a list of calls for one role and report every
 * denial with the engine's explanation, so one failing test names all the missing permissions.
 */
import type { IamCall, IamModel } from '../../local/iam';

/** The explanations of the calls `role` may not make (empty when all are allowed). */
export async function deniedCalls(model: IamModel, role: string, calls: readonly IamCall[], sessionName?: string): Promise<string[]> {
  const denied: string[] = [];
  for (const call of calls) {
    const result = await model.simulate({
      role,
      action: call.action,
      resource: call.resource,
      ...(call.context ? { context: call.context } : {}),
      ...(sessionName ? { sessionName } : {}),
    });
    if (!result.allowed) denied.push(call.because ? `${result.explanation} (needed for ${call.because})` : result.explanation);
  }
  return denied;
}

/** Groups items by a key, keeping first-seen order. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(key(item), [...(groups.get(key(item)) ?? []), item]);
  return groups;
}
