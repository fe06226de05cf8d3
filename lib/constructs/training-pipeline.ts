/**
 * One model's training pipeline: the Standard state machine of statemachines/training.asl.json,
 * its least-privilege role (the file-based definition gets no IAM from CDK), and the SageMaker
 * execution role its training jobs run as.
 */
import * as path from 'node:path';
import { ArnFormat, AssetHashType, BundlingOutput, DockerImage, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import type * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import type { ModelDocument } from '../../contracts/model';
import { PROJECT_ROOT } from '../../contracts/project-root';
import {
  MAX_BASE64_DECODE_INPUT,
  modelDocumentBase64,
  readTrainingDefinition,
  TRAINING_DEFINITION_PATH,
  trainingSubstitutions,
  tuningJobConfigBase64,
} from '../../contracts/state-machines';
import { SAGEMAKER_MAX_RUNTIME_SECONDS, type TrainingConfig, trainingSettingsProblems } from '../../contracts/training';
import { TRAINING_SOURCE_DIRECTORY, writeTrainingCodeArchive } from '../../contracts/training-code';
import { MAX_TRAINING_JOB_NAME_PREFIX_LENGTH } from '../../contracts/training-job';
import { tuningJobNamePrefix } from '../../contracts/tuning';
import type { ArtifactStore } from './artifact-store';
import { grantDistributedMapRuns } from './distributed-map';
import type { ModelRegistry } from './model-registry';
import type { SageMakerNetwork } from './sagemaker-network';

/** The EventBridge rules Step Functions manages for `createTrainingJob.sync` and `createHyperParameterTuningJob.sync`. */
const SAGEMAKER_SYNC_RULES = ['StepFunctionsGetEventsForSageMakerTrainingJobsRule', 'StepFunctionsGetEventsForSageMakerTuningJobsRule'];

export interface TrainingPipelineProps {
  /** The model's schema, target, features and gate thresholds, passed to the pipeline's functions. */
  readonly model: ModelDocument;
  /** The model's resolved training settings (platform values with the model's overrides). */
  readonly training: TrainingConfig;
  /** Prefix of every training job name (e.g. `mlops-dev-churn`); IAM is scoped to it. */
  readonly jobNamePrefix: string;
  /**
   * The VPC placement of the training and tuning jobs (their `VpcConfig`).
   * @default - the jobs run in SageMaker's own network (with network isolation)
   */
  readonly network?: SageMakerNetwork;
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  readonly validateDataFunction: lambda.IFunction;
  readonly evaluateModelFunction: lambda.IFunction;
  readonly deployFunction: lambda.IFunction;
  /** Where failures and rejections are announced. */
  readonly alertTopic: sns.ITopic;
  /**
   * Whether a registered version waits for a person's approval before deployment: `required`
   * (every run waits; an execution input `requireApproval: false` cannot lower it), `optional`
   * (a run waits when its input asks), `off` (likewise: only a run that asks waits).
   * @default 'optional'
   */
  readonly approvalPolicy?: 'required' | 'optional' | 'off';
  /**
   * How often a running deployment is checked; longer polls mean fewer state transitions.
   * @default Duration.minutes(2)
   */
  readonly deployPollInterval?: Duration;
  /**
   * Execution history log level.
   * @default sfn.LogLevel.ERROR
   */
  readonly logLevel?: sfn.LogLevel;
  /**
   * Whether logs include state input and output (datasets URIs, metrics, hyperparameters).
   * @default false
   */
  readonly includeExecutionData?: boolean;
  /**
   * Retention of the execution history logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class TrainingPipeline extends Construct {
  readonly stateMachine: sfn.StateMachine;
  /** The role SageMaker training jobs run as. */
  readonly trainingRole: iam.Role;
  /** The training program (sourcedir.tar.gz) the jobs run: the `code` channel. */
  readonly trainingCode: s3assets.Asset;

  constructor(scope: Construct, id: string, props: TrainingPipelineProps) {
    super(scope, id);
    validateTraining(props);
    const stack = Stack.of(this);
    const deployPollInterval = props.deployPollInterval ?? Duration.minutes(2);

    this.trainingRole = new iam.Role(this, 'TrainingRole', {
      assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com'),
      description: `cdk-mlops: SageMaker training jobs of ${props.model.name}`,
    });
    this.trainingCode = trainingCodeAsset(this, props.training.sourceDirectory);
    this.grantTrainingJobAccess(props);
    props.network?.grantNetworkInterfaces(this.trainingRole);
    const network = props.network?.trainingNetwork;

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `cdk-mlops: training pipeline of ${props.model.name}`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `cdk-mlops training pipeline of ${props.model.name}`,
      definitionBody: network
        ? sfn.DefinitionBody.fromString(
            readTrainingDefinition({ subnets: network.subnetIds.length, securityGroups: network.securityGroupIds.length }),
          )
        : sfn.DefinitionBody.fromFile(TRAINING_DEFINITION_PATH),
      definitionSubstitutions: trainingSubstitutions({
        model: props.model,
        training: props.training,
        jobNamePrefix: props.jobNamePrefix,
        region: stack.region,
        validateDataFunctionArn: props.validateDataFunction.functionArn,
        evaluateModelFunctionArn: props.evaluateModelFunction.functionArn,
        registryFunctionArn: props.registry.registryFunction.functionArn,
        deployFunctionArn: props.deployFunction.functionArn,
        alertTopicArn: props.alertTopic.topicArn,
        trainingRoleArn: this.trainingRole.roleArn,
        artifactsBucket: props.artifactStore.artifactsBucket.bucketName,
        artifactsKeyArn: props.artifactStore.key.keyArn,
        approvalPolicy: props.approvalPolicy ?? 'optional',
        deployPollSeconds: deployPollInterval.toSeconds(),
        trainingCode: { bucket: this.trainingCode.s3BucketName, key: this.trainingCode.s3ObjectKey },
        ...(network ? { network } : {}),
      }),
      role,
      tracingEnabled: true,
      logs: {
        destination: logGroup,
        level: props.logLevel ?? sfn.LogLevel.ERROR,
        includeExecutionData: props.includeExecutionData ?? false,
      },
    });
    this.grantPipelineAccess(role, props);

    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Logs ERROR events by design: ALL would write every state transition (cost) and, with execution data, dataset and metric details.',
    });
    Validations.of(logGroup).acknowledge(
      {
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason:
          'Execution data is off by default, so the log holds state names and error causes only; CloudWatch Logs encrypts at rest by default.',
      },
      {
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
        reason:
          'Execution history is kept by Step Functions for 90 days and the outcome of every run in the registry audit trail; the log is for debugging.',
      },
    );
  }

  /** Lets a principal start runs of this pipeline (the API, the drift monitor). */
  grantStartExecution(grantee: iam.IGrantable): iam.Grant {
    return this.stateMachine.grantStartExecution(grantee);
  }

  metricFailed(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricFailed({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  metricSucceeded(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.stateMachine.metricSucceeded({ statistic: cloudwatch.Stats.SUM, ...props });
  }

  /** What SageMaker needs to run the job: read the data, write the model and checkpoints, pull the image, log. */
  private grantTrainingJobAccess(props: TrainingPipelineProps): void {
    const role = this.trainingRole;
    const stack = Stack.of(this);
    // The job reads its run's split (train, validation, config channels) and the training program;
    // never the datasets bucket, so a model's job sees only the rows validated for it.
    props.artifactStore.grantReadArtifacts(role, `${ARTIFACT_PREFIXES.splits}${props.model.name}/`);
    // The code channel is one object in the CDK assets bucket: list that key, read that key, nothing else
    // (Asset.grantRead would hand out s3:GetObject* and s3:List* on the whole bucket).
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.trainingCode.bucket.bucketArn],
        conditions: { StringEquals: { 's3:prefix': this.trainingCode.s3ObjectKey } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['s3:GetObject'],
        resources: [this.trainingCode.bucket.arnForObjects(this.trainingCode.s3ObjectKey)],
      }),
    );
    props.artifactStore.grantReadArtifacts(role, `${ARTIFACT_PREFIXES.checkpoints}${props.model.name}/`);
    props.artifactStore.grantWriteArtifacts(role, `${ARTIFACT_PREFIXES.checkpoints}${props.model.name}/`);
    props.artifactStore.grantWriteArtifacts(role, `${ARTIFACT_PREFIXES.models}${props.model.name}/`);
    // OutputDataConfig.KmsKeyId: SageMaker encrypts the model artifact with the key as the role.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['kms:Encrypt'], resources: [props.artifactStore.key.keyArn] }));
    // Encrypting the training volume: SageMaker creates a grant for the instance, never for a person.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['kms:CreateGrant'],
        resources: [props.artifactStore.key.keyArn],
        conditions: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [
          stack.formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: '/aws/sagemaker/TrainingJobs:*',
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['cloudwatch:PutMetricData'],
        resources: ['*'],
        conditions: { StringLike: { 'cloudwatch:namespace': '/aws/sagemaker/TrainingJobs' } },
      }),
    );
    const repository = ecrRepositoryArn(props.training.imageUri, stack);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
        resources: [repository],
      }),
    );
    role.addToPolicy(new iam.PolicyStatement({ actions: ['ecr:GetAuthorizationToken'], resources: ['*'] }));
    Validations.of(role).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken authorises only "*"; cloudwatch:PutMetricData is limited to the SageMaker training namespace by condition.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:/aws/sagemaker/TrainingJobs:*]',
        reason: 'SageMaker names one log stream per training job inside this fixed log group.',
      },
    );
  }

  /** The state machine's own permissions, each scoped to what the definition calls. */
  private grantPipelineAccess(role: iam.Role, props: TrainingPipelineProps): void {
    const stack = Stack.of(this);
    const functions = [props.validateDataFunction, props.evaluateModelFunction, props.registry.registryFunction, props.deployFunction];
    // The definition invokes unqualified ARNs only, so no `:*` version wildcard is needed.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: functions.map((fn) => fn.functionArn) }));
    const trainingJobs = stack.formatArn({ service: 'sagemaker', resource: 'training-job', resourceName: `${props.jobNamePrefix}-*` });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['sagemaker:CreateTrainingJob', 'sagemaker:DescribeTrainingJob', 'sagemaker:StopTrainingJob', 'sagemaker:AddTags'],
        resources: [trainingJobs],
      }),
    );
    // The tuning branch (createHyperParameterTuningJob.sync, then DescribeTrainingJob of its best job) is in the
    // definition whether or not training.tuning is set; scoped to this pipeline's tuning job names, which its
    // training jobs' names start with (`<tuning job>-<NNN>-<8 hex>`).
    const tuningPrefix = tuningJobNamePrefix(props.jobNamePrefix);
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: [
          'sagemaker:CreateHyperParameterTuningJob',
          'sagemaker:DescribeHyperParameterTuningJob',
          'sagemaker:StopHyperParameterTuningJob',
          'sagemaker:ListTrainingJobsForHyperParameterTuningJob',
          'sagemaker:AddTags',
        ],
        resources: [stack.formatArn({ service: 'sagemaker', resource: 'hyper-parameter-tuning-job', resourceName: `${tuningPrefix}-*` })],
      }),
    );
    if (tuningPrefix !== props.jobNamePrefix) {
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['sagemaker:DescribeTrainingJob'],
          resources: [stack.formatArn({ service: 'sagemaker', resource: 'training-job', resourceName: `${tuningPrefix}-*` })],
        }),
      );
    }
    // Listed by the Step Functions service integration for SageMaker .sync tasks; ListTags authorises only "*".
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sagemaker:ListTags'], resources: ['*'] }));
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
        resources: SAGEMAKER_SYNC_RULES.map((rule) => stack.formatArn({ service: 'events', resource: 'rule', resourceName: rule })),
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [this.trainingRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } },
      }),
    );
    // Explicit actions: Topic.grantPublish adds the kms:GenerateDataKey* wildcard for encrypted topics.
    role.addToPolicy(new iam.PolicyStatement({ actions: ['sns:Publish'], resources: [props.alertTopic.topicArn] }));
    props.alertTopic.masterKey?.grant(role, 'kms:GenerateDataKey', 'kms:Decrypt');
    grantDistributedMapRuns(this, role, this.stateMachine);
    Validations.of(role).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/${props.jobNamePrefix}-*]`,
        reason:
          'Training job names are the prefix plus a UUID per attempt, unknown until a run starts; the prefix scopes them to this pipeline.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:hyper-parameter-tuning-job/${tuningPrefix}-*]`,
        reason: 'Tuning job names are the prefix plus 12 random hexadecimal digits per attempt; the prefix scopes them to this pipeline.',
      },
      ...(tuningPrefix === props.jobNamePrefix
        ? []
        : [
            {
              id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:training-job/${tuningPrefix}-*]`,
              reason: "A tuning job names its training jobs after itself; DescribeTrainingJob reads the best one's artifact.",
            },
          ]),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'sagemaker:ListTags (which the SageMaker .sync integration calls), CloudWatch Logs vended-log delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) authorise only "*"; CDK adds the last two for logging and tracing.',
      },
    );
  }
}

function validateTraining(props: TrainingPipelineProps): void {
  const { training, jobNamePrefix } = props;
  const documentLength = modelDocumentBase64(props.model).length;
  if (documentLength > MAX_BASE64_DECODE_INPUT) {
    throw new Error(
      `models[${props.model.name}]: the model's schema and thresholds take ${documentLength} characters as base64; the training pipeline passes them through States.Base64Decode, which accepts at most ${MAX_BASE64_DECODE_INPUT} — shorten allowedValues lists or column names`,
    );
  }
  const maxPrefix = MAX_TRAINING_JOB_NAME_PREFIX_LENGTH;
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/.test(jobNamePrefix) || jobNamePrefix.length > maxPrefix) {
    throw new Error(
      `jobNamePrefix must be letters, digits and single hyphens, at most ${maxPrefix} characters (so prefix-<attempt UUID> fits SageMaker's 63), got "${jobNamePrefix}"`,
    );
  }
  if (training.maxRuntimeSeconds > SAGEMAKER_MAX_RUNTIME_SECONDS) {
    throw new Error(
      `training.maxRuntimeSeconds must be at most ${SAGEMAKER_MAX_RUNTIME_SECONDS} (28 days), got ${training.maxRuntimeSeconds}`,
    );
  }
  for (const problem of trainingSettingsProblems(training)) throw new Error(`training.${problem.path.join('.')}: ${problem.message}`);
  const tuningLength = tuningJobConfigBase64(training).length;
  if (tuningLength > MAX_BASE64_DECODE_INPUT) {
    throw new Error(
      `training.tuning: the tuning job's configuration takes ${tuningLength} characters as base64; the training pipeline passes it through States.Base64Decode, which accepts at most ${MAX_BASE64_DECODE_INPUT} — fewer or shorter categorical values`,
    );
  }
  if (props.deployPollInterval && (props.deployPollInterval.toSeconds() < 10 || props.deployPollInterval.toSeconds() > 3600)) {
    throw new Error(`deployPollInterval must be between 10 and 3600 seconds, got ${props.deployPollInterval.toSeconds()}`);
  }
}

/** The repository ARN of an ECR image URI (`<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`). */
function ecrRepositoryArn(imageUri: string, stack: Stack): string {
  const match = /^([0-9]{12})\.dkr\.ecr\.([a-z0-9-]+|\{region\})\.amazonaws\.com(?:\.cn)?\/([^:@]+)/.exec(imageUri);
  if (!match) throw new Error(`training.imageUri must be an ECR image URI, got "${imageUri}"`);
  const [, account, region, repository] = match;
  return stack.formatArn({
    service: 'ecr',
    account,
    region: region === '{region}' ? stack.region : region,
    resource: 'repository',
    resourceName: repository,
  });
}

/**
 * The training program as an S3 asset: the folder packed into sourcedir.tar.gz at synth by
 * writeTrainingCodeArchive (local bundling, never Docker), uploaded as that single file. Its hash
 * is the source folder's, so an unchanged program is not uploaded again.
 */
function trainingCodeAsset(scope: Construct, sourceDirectory: string | undefined): s3assets.Asset {
  const source = sourceDirectory === undefined ? TRAINING_SOURCE_DIRECTORY : path.resolve(PROJECT_ROOT, sourceDirectory);
  return new s3assets.Asset(scope, 'TrainingCode', {
    path: source,
    assetHashType: AssetHashType.SOURCE,
    exclude: ['tests', '**/__pycache__', '**/*.pyc', '.*'],
    bundling: {
      image: DockerImage.fromRegistry('not-used-local-bundling-only'),
      outputType: BundlingOutput.SINGLE_FILE,
      local: {
        tryBundle(outputDirectory: string): boolean {
          writeTrainingCodeArchive(source, outputDirectory);
          return true;
        },
      },
    },
  });
}
