/**
 * Every role of the synthesized platform (cdk.json's configuration: serverless serving) against
 * every AWS call its code or integration makes, on the resources it touches, simulated with AWS's
 * IAM rules offline: each function's SDK commands as its code scan finds them, what Lambda does
 * with the role, every service integration of the training state machine (and what the training
 * job does as the role it is passed), the scheduler and the API Gateway integrations.
 *
 * Calls that today's stack does not allow are `it.fails` with the defect named: when the stack
 * is fixed, the test fails until `it.fails` becomes `it`.
 */
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../contracts/project-root';
import {
  apiGatewayIntegrationCalls,
  commandsOf,
  iamCallsOfSdkCommand,
  lambdaFunctions,
  lambdaServiceCalls,
  type SdkService,
  scanFunctionCode,
  schedulerCalls,
  stateMachineCalls,
  stateMachineDefinition,
} from '../../local/iam';
import { commandInputs, type PlatformNames } from './calls';
import { deniedCalls, groupBy } from './check';
import { synthesizePlatform } from './synth';
import { trainingExamples } from './training-examples';

const { model, outputs, assemblyDirectory } = synthesizePlatform();
const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
const names: PlatformNames = {
  datasetsBucket: outputs.DatasetsBucketName!,
  artifactsBucket: outputs.ArtifactsBucketName!,
  tableName: outputs.RegistryTableName!,
  model: 'churn',
};

/** Function calls today's stack denies, by `<code folder> <service>:<Command>`. */
const FUNCTION_DEFECTS: Record<string, string> = {};

/** State machine calls today's stack denies, by `<role kind> <action>`. */
const STATE_MACHINE_DEFECTS: Record<string, string> = {};

describe.each(lambdaFunctions(model))('function $logicalId (lambdas/$codeFolder)', (fn) => {
  const scan = scanFunctionCode(PROJECT_ROOT, `lambdas/${fn.codeFolder}/handler.ts`);
  const commands = commandsOf(scan);
  const inputs = commandInputs(fn, names, model);

  it('has a representative request for every SDK command its code sends, and none for a command it does not', () => {
    expect(Object.keys(inputs).sort()).toEqual(commands.map(({ service, command }) => `${service}:${command}`));
  });

  for (const { service, command } of commands) {
    const key = `${service}:${command}`;
    const defect = FUNCTION_DEFECTS[`${fn.codeFolder} ${key}`];
    const sites = scan.commands.filter((use) => use.command === command && use.service === service).map((use) => `${use.file}:${use.line}`);
    const title = `may send ${command} (${sites.join(', ')}) on the resources it touches`;
    (defect ? it.fails : it)(defect ? `${title} — known defect: ${defect}` : title, async () => {
      const calls = (inputs[key] ?? []).flatMap((input) => iamCallsOfSdkCommand(service as SdkService, command, input, scope));
      expect(calls.length, `no representative request for ${key}`).toBeGreaterThan(0);
      expect(await deniedCalls(model, fn.role, calls, fn.functionName)).toEqual([]);
    });
  }

  it('lets Lambda write its logs and traces with the execution role', async () => {
    expect(await deniedCalls(model, fn.role, lambdaServiceCalls(model, fn.logicalId), fn.functionName)).toEqual([]);
  });
});

describe.each(model.resolved.logicalIdsOfType('AWS::StepFunctions::StateMachine'))('state machine %s', (logicalId) => {
  const definition = stateMachineDefinition(model, logicalId, assemblyDirectory);
  // The training pipeline names its jobs (NameTrainingJob); the batch inference pipeline invokes its functions only.
  const isTraining = 'NameTrainingJob' in definition.States;
  const calls = stateMachineCalls(model, logicalId, definition, { examples: isTraining ? trainingExamples(definition, names) : {} });
  const pipelineRole = model.role(String(model.resolved.resolve(model.resolved.resource(logicalId).Properties?.RoleArn))).logicalId;

  it('calls something on behalf of every kind of task the definition has', () => {
    const origins = new Set(calls.map((call) => call.origin.split(' (')[0]));
    const trainingTasks = [
      'ValidateDataset',
      'ProfileShards',
      'TrainOnSpot',
      'TrainOnDemand',
      'TuneHyperparameters',
      'DescribeBestTrainingJob',
      'EvaluateModel',
      'NotifyFailure',
    ];
    for (const state of isTraining ? trainingTasks : ['ListInputs', 'ScoreObjects', 'ScoreObject', 'CheckDrift', 'Summarize']) {
      expect(origins).toContain(state);
    }
  });

  for (const [group, groupCalls] of groupBy(calls, (call) => `${call.origin}: ${call.action}`)) {
    const kind = groupCalls[0]!.role === pipelineRole ? 'pipeline' : 'training';
    const defect = STATE_MACHINE_DEFECTS[`${kind} ${groupCalls[0]!.action}`];
    const title = `${group} is allowed for the ${kind} role on ${[...new Set(groupCalls.map((call) => call.resource))].join(', ')}`;
    (defect ? it.fails : it)(defect ? `${title} — known defect: ${defect}` : title, async () => {
      expect(await deniedCalls(model, groupCalls[0]!.role, groupCalls)).toEqual([]);
    });
  }
});

describe('service integrations with roles of their own', () => {
  it('lets each EventBridge Scheduler schedule invoke its target', async () => {
    const calls = schedulerCalls(model);
    expect(calls.length).toBeGreaterThan(0);
    for (const [role, roleCalls] of groupBy(calls, (call) => call.role)) expect(await deniedCalls(model, role, roleCalls)).toEqual([]);
  });

  it('lets each API Gateway AWS integration call its service with its credentials role', async () => {
    const calls = apiGatewayIntegrationCalls(model);
    expect(calls.map((call) => call.action)).toContain('states:StartExecution');
    for (const [role, roleCalls] of groupBy(calls, (call) => call.role)) expect(await deniedCalls(model, role, roleCalls)).toEqual([]);
  });

  it('lets the CodeDeploy deployment group shift the live alias and read the alarms that roll it back', async () => {
    for (const groupId of model.resolved.logicalIdsOfType('AWS::CodeDeploy::DeploymentGroup')) {
      const group = model.resolved.resolve(model.resolved.resource(groupId).Properties) as {
        ServiceRoleArn: string;
        AlarmConfiguration: { Alarms: Array<{ Name: string }> };
      };
      const aliasId = model.resolved.logicalIdsOfType('AWS::Lambda::Alias')[0]!;
      const alias = model.arnOf(aliasId);
      const { partition, region, account } = model.environment;
      const calls = [
        { action: 'lambda:GetAlias', resource: alias },
        { action: 'lambda:UpdateAlias', resource: alias },
        ...group.AlarmConfiguration.Alarms.map((alarm) => ({
          action: 'cloudwatch:DescribeAlarms',
          resource: `arn:${partition}:cloudwatch:${region}:${account}:alarm:${alarm.Name}`,
        })),
      ];
      expect(await deniedCalls(model, group.ServiceRoleArn, calls)).toEqual([]);
    }
  });
});
