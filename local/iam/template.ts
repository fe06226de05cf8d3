/**
 * A synthesized CloudFormation template with its intrinsics resolved for one fake environment:
 * every resource gets a deterministic physical name derived from its logical ID (unless the
 * template names it), and Ref / Fn::GetAtt / Fn::Join / Fn::Sub / Fn::Select / Fn::Split /
 * Fn::FindInMap and the pseudo parameters resolve to the concrete strings AWS would produce.
 * Tests and the offline runtime build request ARNs through the same functions, so a request and
 * a policy name the same resource the same way. No aws-cdk-lib here: the runtime loads it too.
 */
import { createHash } from 'node:crypto';

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

/** The account, region and partition the template is resolved for, and the stack's name (generated names start with it). */
export interface IamEnvironment {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly urlSuffix: string;
  readonly stackName: string;
}

export const DEFAULT_ENVIRONMENT: IamEnvironment = {
  account: '123456789012',
  region: 'eu-west-1',
  partition: 'aws',
  urlSuffix: 'amazonaws.com',
  stackName: 'stack',
};

/** The property that names a resource when the template sets it; otherwise CloudFormation generates a name. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::S3::Bucket': 'BucketName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::Lambda::LayerVersion': 'LayerName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::SageMaker::Model': 'ModelName',
  'AWS::SageMaker::EndpointConfig': 'EndpointConfigName',
  'AWS::SageMaker::Endpoint': 'EndpointName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::Events::Rule': 'Name',
  'AWS::Scheduler::Schedule': 'Name',
  'AWS::CodeDeploy::Application': 'ApplicationName',
};

/** Resource types whose Ref is their ARN rather than their name (CloudFormation's "Return values" of each type). */
const REF_IS_ARN = new Set([
  'AWS::StepFunctions::StateMachine',
  'AWS::SNS::Topic',
  'AWS::IAM::ManagedPolicy',
  'AWS::SageMaker::Model',
  'AWS::SageMaker::EndpointConfig',
  'AWS::SageMaker::Endpoint',
  'AWS::Lambda::LayerVersion',
  'AWS::Lambda::Version',
  'AWS::Lambda::Alias',
]);

/** Names CloudFormation generates are at most this long for most types (Lambda, IAM roles). */
const GENERATED_NAME_MAX = 64;
/** S3 bucket names: 3 to 63 lowercase letters, digits and hyphens. */
const BUCKET_NAME_MAX = 63;

export class UnresolvableIntrinsicError extends Error {
  override readonly name = 'UnresolvableIntrinsicError';
}

export class ResolvedTemplate {
  readonly environment: IamEnvironment;

  constructor(
    readonly template: CfnTemplate,
    environment: Partial<IamEnvironment> = {},
  ) {
    this.environment = { ...DEFAULT_ENVIRONMENT, ...environment };
  }

  resource(logicalId: string): CfnResource {
    const resource = this.template.Resources[logicalId];
    if (!resource) throw new Error(`the template has no resource "${logicalId}"`);
    return resource;
  }

  /** Logical IDs of every resource of a type, in template order. */
  logicalIdsOfType(type: string): string[] {
    return Object.entries(this.template.Resources)
      .filter(([, resource]) => resource.Type === type)
      .map(([logicalId]) => logicalId);
  }

  /** The resource's name: the template's, or a deterministic fake of CloudFormation's generated one. */
  physicalName(logicalId: string): string {
    const resource = this.resource(logicalId);
    const property = NAME_PROPERTY[resource.Type];
    const given = property ? resource.Properties?.[property] : undefined;
    if (given !== undefined) return this.resolveString(given);
    if (resource.Type === 'AWS::S3::Bucket') return `${this.environment.stackName}-${logicalId}`.toLowerCase().slice(0, BUCKET_NAME_MAX);
    return `${this.environment.stackName}-${logicalId}`.slice(0, GENERATED_NAME_MAX);
  }

  /** What `{ Ref: logicalId }` returns. */
  ref(logicalId: string): string {
    const pseudo = this.pseudoParameter(logicalId);
    if (pseudo !== undefined) return pseudo;
    const parameter = this.template.Parameters?.[logicalId];
    if (parameter) {
      if (parameter.Default === undefined) throw new UnresolvableIntrinsicError(`parameter "${logicalId}" has no default`);
      return String(parameter.Default);
    }
    const resource = this.resource(logicalId);
    if (REF_IS_ARN.has(resource.Type)) return this.getAtt(logicalId, 'Arn');
    switch (resource.Type) {
      case 'AWS::KMS::Key':
        return fakeKeyId(logicalId);
      case 'AWS::SQS::Queue':
        return `https://sqs.${this.environment.region}.${this.environment.urlSuffix}/${this.environment.account}/${this.physicalName(logicalId)}`;
      case 'AWS::ApiGateway::RestApi':
        return fakeId(logicalId, 10).toLowerCase();
      default:
        return this.physicalName(logicalId);
    }
  }

  /** What `{ 'Fn::GetAtt': [logicalId, attribute] }` returns; `Arn` is the resource's ARN. */
  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    if (attribute === 'Arn' || attribute.endsWith('Arn')) {
      const arn = this.arnOfType(resource, logicalId, name, attribute);
      if (arn !== undefined) return arn;
    }
    switch (attribute) {
      case 'Name':
      case 'TopicName':
      case 'QueueName':
      case 'ModelName':
      case 'EndpointConfigName':
      case 'EndpointName':
        return name;
      case 'KeyId':
        return fakeKeyId(logicalId);
      case 'RoleId':
        return `AROA${fakeId(logicalId, 17)}`;
      case 'Version':
        return '1';
      case 'QueueUrl':
        return this.ref(logicalId);
      case 'RootResourceId':
        return fakeId(`${logicalId}/root`, 10).toLowerCase();
      case 'DomainName':
        return `${name}.s3.${this.environment.urlSuffix}`;
      case 'RegionalDomainName':
        return `${name}.s3.${this.environment.region}.${this.environment.urlSuffix}`;
      default:
        return `${name}.${attribute}`;
    }
  }

  /** The ARN of a resource (`Arn`, or another ARN attribute such as `StreamArn`). */
  arnOf(logicalId: string, attribute = 'Arn'): string {
    return this.getAtt(logicalId, attribute);
  }

  /** Resolves every intrinsic in a value; `AWS::NoValue` removes the property or array item. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref' || key.startsWith('Fn::')) return this.intrinsic(key, argument);
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const result = this.resolve(item);
      if (result !== NO_VALUE) resolved[key] = result;
    }
    return resolved;
  }

  resolveString(value: unknown): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string' && typeof resolved !== 'number' && typeof resolved !== 'boolean') {
      throw new UnresolvableIntrinsicError(`expected a string, got ${JSON.stringify(resolved)}`);
    }
    return String(resolved);
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return argument === 'AWS::NoValue' ? NO_VALUE : this.ref(String(argument));
      case 'Fn::GetAtt': {
        const [logicalId, attribute] = Array.isArray(argument) ? argument : String(argument).split(/\.(.*)/);
        return this.getAtt(String(logicalId), this.resolveString(attribute));
      }
      case 'Fn::Join': {
        const [separator, items] = argument as [string, unknown];
        const list = this.resolve(items);
        if (!Array.isArray(list)) throw new UnresolvableIntrinsicError(`Fn::Join needs a list, got ${JSON.stringify(list)}`);
        return list.map((item) => this.resolveString(item)).join(separator);
      }
      case 'Fn::Sub':
        return this.substitute(argument);
      case 'Fn::Select': {
        const [index, items] = argument as [unknown, unknown];
        const list = this.resolve(items);
        if (!Array.isArray(list)) throw new UnresolvableIntrinsicError(`Fn::Select needs a list, got ${JSON.stringify(list)}`);
        return list[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [separator, source] = argument as [string, unknown];
        return this.resolveString(source).split(separator);
      }
      case 'Fn::FindInMap': {
        const [map, top, second] = (argument as unknown[]).map((item) => this.resolveString(item));
        const found = this.template.Mappings?.[map!]?.[top!]?.[second!];
        if (found === undefined) throw new UnresolvableIntrinsicError(`Fn::FindInMap: no ${map}.${top}.${second}`);
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(this.resolveString(argument), 'utf8').toString('base64');
      case 'Fn::GetAZs':
        return ['a', 'b', 'c'].map((zone) => `${this.environment.region}${zone}`);
      case 'Fn::ToJsonString':
        return JSON.stringify(this.resolve(argument));
      default:
        throw new UnresolvableIntrinsicError(`${name} is not supported offline (only in templates this engine does not model)`);
    }
  }

  private substitute(argument: unknown): string {
    const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
    return text.replace(/\$\{(!?)([^}]+)\}/g, (_whole, literal: string, expression: string) => {
      if (literal) return `\${${expression}}`;
      if (expression in variables) return this.resolveString(variables[expression]);
      const [logicalId, attribute] = expression.split(/\.(.*)/);
      return attribute ? this.getAtt(logicalId!, attribute) : this.ref(logicalId!);
    });
  }

  private pseudoParameter(name: string): string | undefined {
    const { account, region, partition, urlSuffix, stackName } = this.environment;
    switch (name) {
      case 'AWS::AccountId':
        return account;
      case 'AWS::Region':
        return region;
      case 'AWS::Partition':
        return partition;
      case 'AWS::URLSuffix':
        return urlSuffix;
      case 'AWS::StackName':
        return stackName;
      case 'AWS::StackId':
        return `arn:${partition}:cloudformation:${region}:${account}:stack/${stackName}/${fakeKeyId(stackName)}`;
      default:
        return undefined;
    }
  }

  private arnOfType(resource: CfnResource, logicalId: string, name: string, attribute: string): string | undefined {
    const { partition: p, region: r, account: a } = this.environment;
    const properties = resource.Properties ?? {};
    switch (resource.Type) {
      case 'AWS::S3::Bucket':
        return `arn:${p}:s3:::${name}`;
      case 'AWS::DynamoDB::Table':
        return attribute === 'StreamArn'
          ? `arn:${p}:dynamodb:${r}:${a}:table/${name}/stream/2000-01-01T00:00:00.000`
          : `arn:${p}:dynamodb:${r}:${a}:table/${name}`;
      case 'AWS::KMS::Key':
        return `arn:${p}:kms:${r}:${a}:key/${fakeKeyId(logicalId)}`;
      case 'AWS::Lambda::Function':
        return `arn:${p}:lambda:${r}:${a}:function:${name}`;
      case 'AWS::Lambda::Version':
        return `${this.functionArnOf(properties.FunctionName)}:1`;
      case 'AWS::Lambda::Alias':
        return `${this.functionArnOf(properties.FunctionName)}:${this.resolveString(properties.Name)}`;
      case 'AWS::Lambda::LayerVersion':
        return `arn:${p}:lambda:${r}:${a}:layer:${name}:1`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:${p}:states:${r}:${a}:stateMachine:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:${p}:sns:${r}:${a}:${name}`;
      case 'AWS::SQS::Queue':
        return `arn:${p}:sqs:${r}:${a}:${name}`;
      case 'AWS::Logs::LogGroup':
        // Fn::GetAtt Arn of a log group ends in ":*" (CloudFormation's documented return value).
        return `arn:${p}:logs:${r}:${a}:log-group:${name}:*`;
      case 'AWS::IAM::Role':
        return `arn:${p}:iam::${a}:role${this.pathOf(properties.Path)}${name}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:${p}:iam::${a}:policy${this.pathOf(properties.Path)}${name}`;
      case 'AWS::SageMaker::Model':
        return `arn:${p}:sagemaker:${r}:${a}:model/${name.toLowerCase()}`;
      case 'AWS::SageMaker::EndpointConfig':
        return `arn:${p}:sagemaker:${r}:${a}:endpoint-config/${name.toLowerCase()}`;
      case 'AWS::SageMaker::Endpoint':
        return `arn:${p}:sagemaker:${r}:${a}:endpoint/${name.toLowerCase()}`;
      case 'AWS::CloudWatch::Alarm':
        return `arn:${p}:cloudwatch:${r}:${a}:alarm:${name}`;
      case 'AWS::Events::Rule':
        return `arn:${p}:events:${r}:${a}:rule/${name}`;
      case 'AWS::Scheduler::Schedule':
        return `arn:${p}:scheduler:${r}:${a}:schedule/default/${name}`;
      case 'AWS::CodeDeploy::Application':
        return `arn:${p}:codedeploy:${r}:${a}:application:${name}`;
      default:
        return undefined;
    }
  }

  private functionArnOf(functionName: unknown): string {
    const resolved = this.resolveString(functionName);
    if (resolved.startsWith('arn:')) return resolved;
    const { partition: p, region: r, account: a } = this.environment;
    return `arn:${p}:lambda:${r}:${a}:function:${resolved}`;
  }

  private pathOf(path: unknown): string {
    return path === undefined ? '/' : this.resolveString(path);
  }
}

/** Marks a value removed by `Ref: AWS::NoValue`. */
const NO_VALUE = Symbol('AWS::NoValue');

function fakeId(seed: string, length: number): string {
  return createHash('sha256').update(seed).digest('hex').toUpperCase().slice(0, length);
}

/** A KMS key ID (a UUID) derived from the logical ID. */
function fakeKeyId(seed: string): string {
  const hex = createHash('sha256').update(seed).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
