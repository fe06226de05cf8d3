/**
 * Calls the registry function (the only writer of the registry table) from another function.
 * A typed refusal comes back as a Lambda function error; it is rethrown with the registry's
 * error name, so callers and Step Functions see `ConflictError`, `InvalidTransitionError`, ...
 */
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';

export class RegistryFunctionError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}

export class RegistryFunctionClient {
  constructor(
    private readonly client: LambdaClient,
    private readonly functionName: string,
  ) {}

  async call<T>(action: string, request: Record<string, unknown>): Promise<T> {
    const response = await this.client.send(
      new InvokeCommand({ FunctionName: this.functionName, Payload: new TextEncoder().encode(JSON.stringify({ action, ...request })) }),
    );
    const text = response.Payload ? new TextDecoder().decode(response.Payload) : 'null';
    if (response.FunctionError) {
      const error = JSON.parse(text) as { errorType?: string; errorMessage?: string };
      throw new RegistryFunctionError(error.errorType ?? 'RegistryError', error.errorMessage ?? text);
    }
    return JSON.parse(text) as T;
  }
}
