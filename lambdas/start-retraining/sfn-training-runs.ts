/** The TrainingRuns of start-retraining on Step Functions: the executions of one state machine. */
import { ExecutionAlreadyExists, ListExecutionsCommand, type SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { TrainingRuns } from './start-retraining';

export class StepFunctionsTrainingRuns implements TrainingRuns {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArn: string,
  ) {}

  async newestStart(): Promise<Date | undefined> {
    // ListExecutions returns the most recent execution first.
    const page = await this.client.send(new ListExecutionsCommand({ stateMachineArn: this.stateMachineArn, maxResults: 1 }));
    return page.executions?.[0]?.startDate;
  }

  async start(name: string, input: string): Promise<{ executionArn?: string; alreadyExists: boolean }> {
    try {
      const response = await this.client.send(new StartExecutionCommand({ stateMachineArn: this.stateMachineArn, name, input }));
      return { executionArn: response.executionArn, alreadyExists: false };
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists || (error as Error).name === 'ExecutionAlreadyExists') return { alreadyExists: true };
      throw error;
    }
  }
}
