/**
 * The platform with its model served by a SageMaker endpoint, in the default configuration (the
 * platform's serving image, no initial model), simulated against the synthesized roles: the
 * deploy function's rollout calls (CreateModel with iam:PassRole, CreateEndpointConfig with the
 * volume key, UpdateEndpoint on the endpoint and the configuration it moves to, with the grant
 * SageMaker creates on that key, DescribeEndpoint); the endpoint custom resource's calls
 * (CreateEndpoint on the bootstrap configuration, with tags and the key grant, DescribeEndpoint,
 * DeleteEndpoint); what SageMaker does with the execution role (image pull, logs, metrics, data
 * capture, the version's artifact, and DescribeAlarms on the rollback alarms while it bakes a
 * deployment); and the API's InvokeEndpoint integration.
 */
import { describe, expect, it } from 'vitest';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import type { EndpointTarget } from '../../contracts/endpoint-deployment';
import { PROJECT_ROOT } from '../../contracts/project-root';
import {
  apiGatewayIntegrationCalls,
  commandsOf,
  type FunctionInfo,
  type IamCall,
  iamCallsOfSdkCommand,
  lambdaFunctions,
  lambdaServiceCalls,
  type SdkService,
  sageMakerHostingCalls,
  scanFunctionCode,
} from '../../local/iam';
import { commandInputs, deployFunctionScope, endpointResources } from './calls';
import { deniedCalls, groupBy } from './check';
import { synthesizePlatform, withEndpointShadow } from './synth';

// With a shadow phase, so the deploy function's every call (the shadow's metrics and capture reads too) is simulated.
const { model, outputs } = synthesizePlatform(withEndpointShadow);
const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
const names = {
  datasetsBucket: outputs.DatasetsBucketName!,
  artifactsBucket: outputs.ArtifactsBucketName!,
  tableName: outputs.RegistryTableName!,
  model: 'churn',
};

const functions = lambdaFunctions(model);
const deploy = functions.find((fn) => fn.codeFolder === 'deploy-endpoint');
if (!deploy) throw new Error('endpoint serving synthesized no function running lambdas/deploy-endpoint');
const target = JSON.parse(deploy.environment.ENDPOINT_TARGET!) as EndpointTarget;
const keyArn = model.encryptionOf(`arn:${model.environment.partition}:s3:::${names.artifactsBucket}`)!.keyArn;

/** Every SDK command the function's code sends, on the resources it touches, allowed for its role. */
function describeCodeCalls(fn: FunctionInfo, callScope: typeof scope) {
  const scan = scanFunctionCode(PROJECT_ROOT, `lambdas/${fn.codeFolder}/handler.ts`);
  const inputs = commandInputs(fn, names, model);

  it('sends exactly the commands the IAM test has requests for', () => {
    expect(Object.keys(inputs).sort()).toEqual(commandsOf(scan).map(({ service, command }) => `${service}:${command}`));
  });

  for (const { service, command } of commandsOf(scan)) {
    it(`may send ${command} on the resources it touches`, async () => {
      const calls = inputs[`${service}:${command}`]!.flatMap((input) =>
        iamCallsOfSdkCommand(service as SdkService, command, input, callScope),
      );
      expect(await deniedCalls(model, fn.role, calls, fn.functionName)).toEqual([]);
    });
  }

  it('lets Lambda write its logs and traces with the execution role', async () => {
    expect(await deniedCalls(model, fn.role, lambdaServiceCalls(model, fn.logicalId), fn.functionName)).toEqual([]);
  });
}

describe('the deploy function of an endpoint-served model', () => {
  const deployScope = deployFunctionScope(deploy, model);
  describeCodeCalls(deploy, deployScope);

  it('is allowed UpdateEndpoint on both resources it authorises on: the endpoint and the configuration it moves to', async () => {
    const [onEndpoint, onConfig] = iamCallsOfSdkCommand(
      'sagemaker',
      'UpdateEndpointCommand',
      { EndpointName: target.endpointName, EndpointConfigName: `${target.endpointName}-v3-0123456789ab` },
      scope,
    );
    expect((await model.simulate({ role: deploy.role, ...onEndpoint! })).allowed).toBe(true);
    expect((await model.simulate({ role: deploy.role, ...onConfig! })).allowed).toBe(true);
    // Another endpoint's configuration stays out of reach.
    const [, foreign] = iamCallsOfSdkCommand(
      'sagemaker',
      'UpdateEndpointCommand',
      { EndpointName: target.endpointName, EndpointConfigName: 'someone-else-v1-0123456789ab' },
      scope,
    );
    expect((await model.simulate({ role: deploy.role, ...foreign! })).allowed).toBe(false);
  });

  it("may have SageMaker create the grant on the configuration's volume key for an AWS resource, and no other grant", async () => {
    const calls = iamCallsOfSdkCommand(
      'sagemaker',
      'UpdateEndpointCommand',
      { EndpointName: target.endpointName, EndpointConfigName: `${target.endpointName}-v3-0123456789ab` },
      deployScope,
    );
    const grant = calls.find((call) => call.action === 'kms:CreateGrant');
    expect(grant).toMatchObject({ resource: target.kmsKeyId, context: { 'kms:GrantIsForAWSResource': 'true' } });
    expect(calls.map((call) => call.action)).toContain('kms:DescribeKey');
    expect(await deniedCalls(model, deploy.role, calls, deploy.functionName)).toEqual([]);
    const forItself = { ...grant!, context: { ...grant!.context, 'kms:GrantIsForAWSResource': 'false' } };
    expect((await model.simulate({ role: deploy.role, ...forItself })).allowed).toBe(false);
  });
});

describe('the endpoint custom resource (created once, never updated, deleted on destroy)', () => {
  const handlers = functions.filter((fn) => fn.codeFolder === 'endpoint-resource');

  it('runs two handlers, onEvent and isComplete, for one endpoint created on its bootstrap configuration', () => {
    expect(handlers).toHaveLength(2);
    const [endpoint] = endpointResources(model);
    expect(endpointResources(model)).toHaveLength(1);
    expect(endpoint).toMatchObject({ EndpointName: target.endpointName });
    expect(endpoint!.Tags).toEqual(expect.arrayContaining([{ Key: 'Project', Value: 'mlops' }]));
  });

  describe.each(handlers)('$logicalId', (fn) => describeCodeCalls(fn, scope));

  it('needs the grant on the bootstrap configuration’s volume key to create the endpoint', () => {
    const [endpoint] = endpointResources(model);
    const calls = iamCallsOfSdkCommand('sagemaker', 'CreateEndpointCommand', { ...endpoint! }, scope);
    expect(calls.map((call) => `${call.action} ${call.resource}`)).toEqual(
      expect.arrayContaining([`kms:CreateGrant ${keyArn}`, `kms:DescribeKey ${keyArn}`, expect.stringMatching(/^sagemaker:AddTags /)]),
    );
  });
});

describe('the SageMaker execution role of the endpoint', () => {
  const hosting = sageMakerHostingCalls(model);
  const [role] = [...new Set(hosting.map((call) => call.role))];
  const executionRole = model.role(target.executionRoleArn).logicalId;

  it('is the role the deploy function passes to every model it creates', () => {
    expect(role).toBe(executionRole);
  });

  for (const [origin, calls] of groupBy(hosting, (call) => call.action)) {
    it(`lets SageMaker ${origin} with it (${calls[0]!.because})`, async () => {
      expect(await deniedCalls(model, executionRole, calls)).toEqual([]);
    });
  }

  it("lets SageMaker download a rolled-out version's model.tar.gz, decrypting it", async () => {
    const artifact = `${ARTIFACT_PREFIXES.models}churn/mlops-dev-churn-3f2a9c1e/output/model.tar.gz`;
    const calls: IamCall[] = iamCallsOfSdkCommand('s3', 'GetObjectCommand', { Bucket: names.artifactsBucket, Key: artifact }, scope);
    expect(calls.map((call) => call.action)).toEqual(['s3:GetObject', 'kms:Decrypt']);
    expect(await deniedCalls(model, executionRole, calls)).toEqual([]);
  });

  it('lets SageMaker read the rollback alarms while it bakes a blue/green deployment (deployment guardrails)', async () => {
    const { partition, region, account } = model.environment;
    const alarms = target.deploymentConfig.AutoRollbackConfiguration.Alarms;
    expect(alarms).toHaveLength(3);
    const calls = alarms.map(({ AlarmName }) => ({
      action: 'cloudwatch:DescribeAlarms',
      resource: `arn:${partition}:cloudwatch:${region}:${account}:alarm:${AlarmName}`,
    }));
    expect(await deniedCalls(model, executionRole, calls)).toEqual([]);
  });
});

describe('the API of an endpoint-served model', () => {
  it('lets the InvokeEndpoint integration role invoke the endpoint', async () => {
    const calls = apiGatewayIntegrationCalls(model).filter((call) => call.action === 'sagemaker:InvokeEndpoint');
    expect(calls.length).toBeGreaterThan(0);
    for (const [role, roleCalls] of groupBy(calls, (call) => call.role)) expect(await deniedCalls(model, role, roleCalls)).toEqual([]);
  });
});
