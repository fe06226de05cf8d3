/**
 * The VPC placement of the platform's SageMaker work: training and tuning jobs and endpoint models
 * get `VpcConfig` (private subnets and one security group), so their network interfaces live in
 * the team's network instead of SageMaker's. A new VPC has private isolated subnets only (no NAT
 * gateway, no internet route) and the endpoints SageMaker work needs there: S3 (gateway: datasets,
 * code, artifacts), the SageMaker API and runtime, and STS (interface endpoints with private DNS).
 * An existing VPC is used as it is; `vpcEndpoints: true` adds the same endpoints to it.
 */
import { Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { VPC_CONFIG_LIMITS } from '../../contracts/sagemaker-rules';
import type { TrainingNetwork } from '../../contracts/state-machines';

export interface SageMakerNetworkProps {
  /** A VPC the team already has. Not with vpcProps. @default - a new VPC (see vpcProps) */
  readonly existingVpc?: ec2.IVpc;
  /**
   * Props of the new VPC, over the defaults (2 AZs, private isolated subnets only, no NAT gateway,
   * flow logs to CloudWatch Logs). Not with existingVpc.
   * @default - the defaults
   */
  readonly vpcProps?: ec2.VpcProps;
  /**
   * The subnets the jobs and models use (at most 16).
   * @default - the VPC's private subnets (CDK's default selection)
   */
  readonly subnets?: ec2.SubnetSelection;
  /**
   * Add the S3 gateway endpoint and the SageMaker API, SageMaker runtime and STS interface
   * endpoints to the VPC. Leave it off for a VPC that has them already (a second interface
   * endpoint with private DNS for the same service fails to deploy).
   * @default - true for a new VPC, false for an existing one
   */
  readonly vpcEndpoints?: boolean;
  /** Log retention of the new VPC's flow logs. @default logs.RetentionDays.ONE_YEAR */
  readonly flowLogRetention?: logs.RetentionDays;
}

/** The interface endpoints SageMaker work in isolated subnets needs, with the S3 gateway endpoint. */
export const SAGEMAKER_INTERFACE_ENDPOINTS = {
  SageMakerApi: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API,
  SageMakerRuntime: ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_RUNTIME,
  Sts: ec2.InterfaceVpcEndpointAwsService.STS,
} as const;

/**
 * What SageMaker does with an execution role to place a job or model in a VPC (SageMaker Developer
 * Guide, "Give SageMaker training jobs access to resources in your Amazon VPC" and the same page for
 * hosted models): describe the network, create and delete the network interfaces.
 */
export const SAGEMAKER_VPC_DESCRIBE_ACTIONS = [
  'ec2:DescribeVpcs',
  'ec2:DescribeDhcpOptions',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
  'ec2:DescribeNetworkInterfaces',
] as const;

export class SageMakerNetwork extends Construct {
  readonly vpc: ec2.IVpc;
  /** The security group of every job and model: traffic among its members (distributed training) and HTTPS out (the endpoints, S3). */
  readonly securityGroup: ec2.SecurityGroup;
  readonly subnets: ec2.SelectedSubnets;

  constructor(scope: Construct, id: string, props: SageMakerNetworkProps) {
    super(scope, id);
    if (props.existingVpc && props.vpcProps) {
      throw new Error('existingVpc and vpcProps are mutually exclusive: pass an existing VPC or props for a new one, not both');
    }
    this.vpc = props.existingVpc ?? this.createVpc(props);
    this.subnets = this.vpc.selectSubnets(props.subnets);
    const count = this.subnets.subnetIds.length;
    if (count < 1 || count > VPC_CONFIG_LIMITS.subnets) {
      throw new Error(
        `the VPC's selected subnets number ${count}; SageMaker's VpcConfig takes 1 to ${VPC_CONFIG_LIMITS.subnets} (choose them with subnets)`,
      );
    }

    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: this.vpc,
      description: 'cdk-mlops SageMaker training jobs and endpoint models',
      allowAllOutbound: false,
    });
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.allTraffic(), 'distributed training among the job instances');
    this.securityGroup.addEgressRule(this.securityGroup, ec2.Port.allTraffic(), 'distributed training among the job instances');
    // HTTPS only: to the interface endpoints, and to S3 through the gateway endpoint (whose
    // addresses are the region's S3 prefix list, not the VPC's). In the new VPC's isolated subnets
    // nothing else is routable; the containers themselves run with network isolation either way.
    this.securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'HTTPS to the VPC endpoints and S3');

    if (props.vpcEndpoints ?? props.existingVpc === undefined) {
      this.vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3, subnets: [props.subnets ?? {}] });
      for (const [name, service] of Object.entries(SAGEMAKER_INTERFACE_ENDPOINTS)) {
        const endpoint = this.vpc.addInterfaceEndpoint(`${name}Endpoint`, {
          service,
          subnets: props.subnets ?? {},
          privateDnsEnabled: true,
          open: true,
        });
        for (const group of endpoint.connections.securityGroups) {
          Validations.of(group).acknowledge({
            id: 'AwsSolutions-EC23',
            reason: "The endpoint's security group admits HTTPS from the VPC's own CIDR block only; cdk-nag cannot read the block's token.",
          });
        }
      }
    }
  }

  private createVpc(props: SageMakerNetworkProps): ec2.Vpc {
    const flowLogs = new logs.LogGroup(this, 'FlowLogs', { retention: props.flowLogRetention ?? logs.RetentionDays.ONE_YEAR });
    Validations.of(flowLogs).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
      reason:
        'Flow logs hold addresses, ports and byte counts, no payloads; CloudWatch Logs encrypts them at rest by default, as the platform does its other logs.',
    });
    return new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'sagemaker', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 22 }],
      flowLogs: {
        all: { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs), trafficType: ec2.FlowLogTrafficType.ALL },
      },
      ...props.vpcProps,
    });
  }

  /** SageMaker's VpcConfig: the selected subnets and the security group. */
  get vpcConfig(): { Subnets: string[]; SecurityGroupIds: string[] } {
    return { Subnets: [...this.subnets.subnetIds], SecurityGroupIds: [this.securityGroup.securityGroupId] };
  }

  /** The training pipeline's network (its definition's VpcConfig placeholders). */
  get trainingNetwork(): TrainingNetwork {
    return { subnetIds: this.subnets.subnetIds, securityGroupIds: [this.securityGroup.securityGroupId] };
  }

  /**
   * Lets SageMaker, acting with `role`, create the job's or model's network interfaces in this
   * VPC's selected subnets with this security group, and delete them again.
   */
  grantNetworkInterfaces(role: iam.IRole): iam.PolicyStatement[] {
    const stack = Stack.of(this);
    const ec2Arn = (resource: string, name: string) => stack.formatArn({ service: 'ec2', resource, resourceName: name });
    const statements = [
      new iam.PolicyStatement({ actions: [...SAGEMAKER_VPC_DESCRIBE_ACTIONS], resources: ['*'] }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterface'],
        resources: [
          ...this.subnets.subnetIds.map((id) => ec2Arn('subnet', id)),
          ec2Arn('security-group', this.securityGroup.securityGroupId),
          ec2Arn('network-interface', '*'),
        ],
      }),
      new iam.PolicyStatement({
        actions: ['ec2:CreateNetworkInterfacePermission', 'ec2:DeleteNetworkInterface', 'ec2:DeleteNetworkInterfacePermission'],
        resources: [ec2Arn('network-interface', '*')],
        conditions: { ArnEquals: { 'ec2:Vpc': ec2Arn('vpc', this.vpc.vpcId) } },
      }),
    ];
    for (const statement of statements) role.addToPrincipalPolicy(statement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]`,
      reason:
        "SageMaker names the network interfaces it creates; creating one is bound to this VPC's subnets and security group, deleting one to this VPC (ec2:Vpc).",
    });
    return statements;
  }
}
