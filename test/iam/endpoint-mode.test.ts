/**
 * The platform with its model served by a SageMaker endpoint: the deploy function's rollout
 * calls (CreateModel with iam:PassRole, CreateEndpointConfig, UpdateEndpoint on the endpoint and
 * on the configuration it moves to, DescribeEndpoint) and the API's InvokeEndpoint integration,
 * simulated against the synthesized roles. Calls today's stack denies are `it.fails` with the defect.
 */
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../contracts/project-root';
import {
  apiGatewayIntegrationCalls,
  commandsOf,
  iamCallsOfSdkCommand,
  lambdaFunctions,
  type SdkService,
  scanFunctionCode,
} from '../../local/iam';
import { commandInputs } from './calls';
import { deniedCalls, groupBy } from './check';
import { synthesizePlatform, withEndpointServing } from './synth';

const { model, outputs } = synthesizePlatform(withEndpointServing);
const scope = { environment: model.environment, encryptionOf: (arn: string) => model.encryptionOf(arn) };
const names = {
  datasetsBucket: outputs.DatasetsBucketName!,
  artifactsBucket: outputs.ArtifactsBucketName!,
  tableName: outputs.RegistryTableName!,
  model: 'churn',
};

/** Calls today's stack denies, by `<service>:<Command>`: none. */
const DEFECTS: Record<string, string> = {};

describe('the deploy function of an endpoint-served model', () => {
  const deploy = lambdaFunctions(model).find((fn) => fn.codeFolder === 'deploy-endpoint');
  if (!deploy) throw new Error('endpoint serving synthesized no function running lambdas/deploy-endpoint');
  const scan = scanFunctionCode(PROJECT_ROOT, 'lambdas/deploy-endpoint/handler.ts');
  const inputs = commandInputs(deploy, names, model);

  it('sends exactly the commands the IAM test has requests for', () => {
    expect(Object.keys(inputs).sort()).toEqual(commandsOf(scan).map(({ service, command }) => `${service}:${command}`));
  });

  for (const { service, command } of commandsOf(scan)) {
    const defect = DEFECTS[`${service}:${command}`];
    const title = `may send ${command} on the resources a rollout touches`;
    (defect ? it.fails : it)(defect ? `${title} — known defect: ${defect}` : title, async () => {
      const calls = inputs[`${service}:${command}`]!.flatMap((input) => iamCallsOfSdkCommand(service as SdkService, command, input, scope));
      expect(await deniedCalls(model, deploy.role, calls, deploy.functionName)).toEqual([]);
    });
  }

  it('is allowed UpdateEndpoint on both resources it authorises on: the endpoint and the configuration it moves to', async () => {
    const target = JSON.parse(deploy.environment.ENDPOINT_TARGET!) as { endpointName: string };
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
});

describe('the API of an endpoint-served model', () => {
  it('lets the InvokeEndpoint integration role invoke the endpoint', async () => {
    const calls = apiGatewayIntegrationCalls(model).filter((call) => call.action === 'sagemaker:InvokeEndpoint');
    expect(calls.length).toBeGreaterThan(0);
    for (const [role, roleCalls] of groupBy(calls, (call) => call.role)) expect(await deniedCalls(model, role, roleCalls)).toEqual([]);
  });
});
