/**
 * The platform in a VPC: the training and tuning jobs and the endpoints' models carry SageMaker's
 * VpcConfig (the networked variant of training.asl.json, run offline like the plain one), their
 * execution roles may manage network interfaces in that VPC only, and a new VPC has isolated
 * subnets with the endpoints SageMaker work needs.
 */

import aslValidator from 'asl-validator';
import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { describe, expect, it } from 'vitest';
import type { PlatformConfigInput } from '../contracts/platform-config';
import { createTrainingJobProblems, vpcConfigProblems } from '../contracts/sagemaker-rules';
import { createHyperParameterTuningJobProblems } from '../contracts/sagemaker-tuning-rules';
import { networkSubstitutions, readTrainingDefinition, renderDefinition } from '../contracts/state-machines';
import { applyPolicyChecks } from '../lib/app';
import { MlopsPlatform, type MlopsPlatformProps } from '../lib/platform';
import { cdkJsonContext, policyStatements, Template, testStack } from './support/cdk';
import { TEST_SUBSTITUTIONS, TrainingPipelineHarness, tuningSubstitutions } from './support/training-pipeline-harness';

const NETWORK = { subnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'], securityGroupIds: ['sg-0123456789abcdef0'] };
const VPC_CONFIG = { Subnets: NETWORK.subnetIds, SecurityGroupIds: NETWORK.securityGroupIds };
const input = { model: 'churn', datasetUri: 's3://datasets/churn/2026-11-01.csv', hyperparameters: { epochs: '20' } };

describe('SageMaker VpcConfig rules', () => {
  it('accepts 1 to 16 subnets and 1 to 5 security groups of EC2 ids', () => {
    expect(vpcConfigProblems(VPC_CONFIG, 'vpcConfig')).toEqual([]);
    const sixteen = Array.from({ length: 16 }, (_, index) => `subnet-${index}`);
    expect(vpcConfigProblems({ Subnets: sixteen, SecurityGroupIds: ['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5'] }, 'vpcConfig')).toEqual([]);
  });

  it.each([
    [
      { Subnets: [], SecurityGroupIds: ['sg-1'] },
      /'vpcConfig.subnets' failed to satisfy constraint: Member must have length between 1 and 16/,
    ],
    [
      { Subnets: Array.from({ length: 17 }, (_, index) => `subnet-${index}`), SecurityGroupIds: ['sg-1'] },
      /Value '17 ids' at 'vpcConfig.subnets'/,
    ],
    [{ Subnets: ['subnet-1'], SecurityGroupIds: ['sg-1', 'sg-2', 'sg-3', 'sg-4', 'sg-5', 'sg-6'] }, /'vpcConfig.securityGroupIds'/],
    [{ Subnets: ['subnet 1'], SecurityGroupIds: ['sg-1'] }, /Value 'subnet 1' at 'vpcConfig.subnets'.*pattern/],
    [{ Subnets: ['subnet-1'], SecurityGroupIds: [`sg-${'0'.repeat(30)}`] }, /length less than or equal to 32/],
  ])('refuses %o', (config, message) => {
    const problems = vpcConfigProblems(config, 'vpcConfig');
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(message);
    expect(createTrainingJobProblems({ ...validTrainingRequest(), VpcConfig: config })).toEqual(problems);
  });
});

describe('training.asl.json placed in a VPC, executed offline', () => {
  it('is valid Amazon States Language, with VpcConfig in both training states and the tuning job definition', () => {
    const definition = JSON.parse(
      renderDefinition(readTrainingDefinition({ subnets: 2, securityGroups: 1 }), {
        ...TEST_SUBSTITUTIONS,
        ...networkSubstitutions(NETWORK),
      }),
    );
    const { isValid, errorsText } = aslValidator(definition);
    expect(isValid, errorsText('\n')).toBe(true);
    expect(definition.States.TrainOnSpot.Parameters.VpcConfig).toEqual(VPC_CONFIG);
    expect(definition.States.TrainOnDemand.Parameters.VpcConfig).toEqual(VPC_CONFIG);
    expect(definition.States.TuneHyperparameters.Parameters.TrainingJobDefinition.VpcConfig).toEqual(VPC_CONFIG);
    expect(JSON.parse(renderDefinition(readTrainingDefinition(), TEST_SUBSTITUTIONS)).States.TrainOnSpot.Parameters.VpcConfig).toBe(
      undefined,
    );
  });

  it('refuses network substitutions the definition has no placeholders for, and placeholders without values', () => {
    expect(() => renderDefinition(readTrainingDefinition(), { ...TEST_SUBSTITUTIONS, ...networkSubstitutions(NETWORK) })).toThrow(
      /unused TrainingSubnet0, TrainingSubnet1, TrainingSecurityGroup0/,
    );
    expect(() => renderDefinition(readTrainingDefinition({ subnets: 3, securityGroups: 1 }), TEST_SUBSTITUTIONS)).toThrow(
      /missing .*TrainingSubnet2/,
    );
  });

  it('sends the training job with its VpcConfig, a request SageMaker accepts', async () => {
    const run = await new TrainingPipelineHarness(networkSubstitutions(NETWORK)).run(input, 'run-vpc');
    expect(run.status).toBe('SUCCEEDED');
    const request = run.calls.TrainOnSpot![0];
    expect(request.VpcConfig).toEqual(VPC_CONFIG);
    expect(request.EnableNetworkIsolation).toBe(true);
    expect(createTrainingJobProblems(request)).toEqual([]);
  });

  it('gives the tuning job definition the same VpcConfig', async () => {
    const run = await new TrainingPipelineHarness({ ...tuningSubstitutions(), ...networkSubstitutions(NETWORK) }).run(
      input,
      'run-vpc-tune',
    );
    expect(run.status).toBe('SUCCEEDED');
    const request = run.calls.TuneHyperparameters![0];
    expect(request.TrainingJobDefinition.VpcConfig).toEqual(VPC_CONFIG);
    expect(createHyperParameterTuningJobProblems(request)).toEqual([]);
  });
});

const config = cdkJsonContext.mlops as PlatformConfigInput;
const withEndpointModel = (base: PlatformConfigInput): PlatformConfigInput => ({
  ...base,
  models: base.models.map((model, index) => (index === 0 ? { ...model, serving: { ...model.serving, mode: 'endpoint' as const } } : model)),
});

function platform(extra: (stack: Stack) => Partial<MlopsPlatformProps>) {
  const stack = testStack();
  const construct = new MlopsPlatform(stack, 'Mlops', { ...withEndpointModel(config), ...extra(stack) });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('MlopsPlatform in a VPC', () => {
  it('deployVpc: isolated subnets in 2 AZs without NAT, flow logs, the S3 gateway and SageMaker API, runtime and STS endpoints', () => {
    const { template } = platform(() => ({ deployVpc: true }));
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    const endpoints = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((resource) => resource.Properties);
    expect(endpoints.map((endpoint) => endpoint.VpcEndpointType ?? 'Gateway').sort()).toEqual([
      'Gateway',
      'Interface',
      'Interface',
      'Interface',
    ]);
    const services = JSON.stringify(endpoints.map((endpoint) => endpoint.ServiceName));
    for (const service of ['.s3', '.sagemaker.api', '.sagemaker.runtime', '.sts']) expect(services).toContain(service);
  });

  it('places the training jobs and the endpoint models in the VPC, and lets SageMaker manage network interfaces there only', () => {
    const { template, construct } = platform(() => ({ deployVpc: true }));
    const network = construct.network!;
    const definitions = JSON.stringify(template.findResources('AWS::StepFunctions::StateMachine'));
    expect(definitions).toContain('\\"VpcConfig\\"');
    template.hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: { Subnets: Match.anyValue(), SecurityGroupIds: [Match.anyValue()] },
    });
    const deployTarget = JSON.stringify(template.findResources('AWS::Lambda::Function'));
    expect(deployTarget).toContain('vpcConfig');
    const statements = policyStatements(template);
    const create = statements.filter((statement) => JSON.stringify(statement.Action).includes('ec2:CreateNetworkInterface"'));
    // The training role of each model and the endpoint's execution role.
    expect(create.length).toBe(config.models.length + 1);
    for (const statement of create) expect(JSON.stringify(statement.Resource)).not.toContain('"*"');
    const deletes = statements.filter((statement) => JSON.stringify(statement.Action).includes('ec2:DeleteNetworkInterface"'));
    for (const statement of deletes) expect(statement.Condition).toEqual({ ArnEquals: { 'ec2:Vpc': expect.anything() } });
    expect(network.subnets.subnetIds).toHaveLength(2);
  });

  it('uses an existing VPC as it is (no endpoints unless asked), on the subnets chosen', () => {
    const { template } = platform((stack) => ({
      existingVpc: ec2.Vpc.fromVpcAttributes(stack, 'TeamVpc', {
        vpcId: 'vpc-0123456789abcdef0',
        vpcCidrBlock: '10.20.0.0/16',
        availabilityZones: ['eu-west-1a', 'eu-west-1b'],
        privateSubnetIds: ['subnet-0000000000000000a', 'subnet-0000000000000000b'],
      }),
    }));
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 0);
    template.hasResourceProperties('AWS::SageMaker::Model', {
      VpcConfig: { Subnets: ['subnet-0000000000000000a', 'subnet-0000000000000000b'], SecurityGroupIds: [Match.anyValue()] },
    });
  });

  it.each([
    [{ deployVpc: true, existingVpc: 'vpc' }, /existingVpc and deployVpc are mutually exclusive/],
    [{ vpcProps: { maxAzs: 3 }, existingVpc: 'vpc' }, /existingVpc and vpcProps are mutually exclusive/],
    [{ vpcEndpoints: true }, /vpcSubnets and vpcEndpoints apply to a VPC/],
  ])('refuses %o', (props, message) => {
    expect(() =>
      platform((stack) => {
        const resolved: Record<string, unknown> = { ...props };
        if ('existingVpc' in props) {
          resolved.existingVpc = ec2.Vpc.fromVpcAttributes(stack, 'TeamVpc', {
            vpcId: 'vpc-1',
            availabilityZones: ['eu-west-1a'],
            privateSubnetIds: ['subnet-1'],
          });
        }
        return resolved as Partial<MlopsPlatformProps>;
      }),
    ).toThrow(message);
  });

  it('passes cdk-nag and CloudFormation Guard with a new VPC', () => {
    const { mlops: _mlops, ...featureFlags } = cdkJsonContext;
    const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] } });
    applyPolicyChecks(app);
    const stack = new Stack(app, 'Networked');
    new MlopsPlatform(stack, 'Mlops', { ...withEndpointModel(config), deployVpc: true });
    expect(() => app.synth()).not.toThrow();
  }, 120_000);
});

function validTrainingRequest() {
  return {
    TrainingJobName: 'job-1',
    InputDataConfig: [{ ChannelName: 'train', DataSource: { S3DataSource: { S3Uri: 's3://bucket/train/' } } }],
    OutputDataConfig: { S3OutputPath: 's3://bucket/models/' },
    StoppingCondition: { MaxRuntimeInSeconds: 3600 },
  };
}
