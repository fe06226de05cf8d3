/**
 * The batch inference pipeline of one model (statemachines/batch-inference.asl.json): the model's
 * batch-score function (the serving core on an ONNX session, the model's schema in its
 * environment) and a Standard state machine whose Distributed Map starts one Express child per
 * input object. Least privilege per model: the function reads input objects under the datasets
 * bucket's `<model>/` only, writes scored objects and manifests under the artifacts bucket's
 * `batch/<model>/` only, reads that model's artifacts and the registry, and appends capture
 * records under the capture bucket's `<model>/batch/` only (read there by the model's check-drift
 * function). The state machine may invoke the batch-score and check-drift functions and start and
 * watch its own child executions.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { BATCH_DEFINITION_PATH, BATCH_SCORE_MEMORY_MB, batchLocations, batchSubstitutions } from '../../contracts/batch-inference';
import type { ResolvedModelConfig } from '../../contracts/platform-config';
import { modelSchemaFor } from '../../contracts/serving-schema';
import { objectPrefixFinding } from './acknowledgements';
import type { ArtifactStore } from './artifact-store';
import { grantDistributedMapRuns } from './distributed-map';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';
import { OnnxRuntimeLayer } from './onnx-runtime-layer';

export interface BatchInferenceProps {
  readonly model: ResolvedModelConfig;
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  /** The model's check-drift function (DriftMonitor.checkFunction): the scored rows' drift report. */
  readonly checkDriftFunction: lambda.IFunction;
  /**
   * Memory of the batch-score function, in MB (CPU grows with it; the cost line counts GB-s).
   * @default 2048
   */
  readonly memorySize?: number;
  readonly logRetention?: logs.RetentionDays;
}

export class BatchInference extends Construct {
  readonly scoreFunction: MlopsFunction;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: BatchInferenceProps) {
    super(scope, id);
    const { model, artifactStore } = props;
    const runtime = new OnnxRuntimeLayer(this, 'OnnxRuntime');

    this.scoreFunction = new MlopsFunction(this, 'ScoreFunction', {
      functionDirectory: 'batch-score',
      description: `cdk-mlops ${model.name}: batch scoring (list inputs, score one object, summarize) on the serving core`,
      memorySize: props.memorySize ?? BATCH_SCORE_MEMORY_MB,
      timeout: Duration.minutes(15),
      architecture: runtime.architecture,
      layers: [runtime.layer],
      logRetention: props.logRetention,
      environment: {
        TABLE_NAME: props.registry.table.tableName,
        CAPTURE_BUCKET: artifactStore.captureBucket.bucketName,
        // The run's locations are checked against these before any object is read (a clear refusal, not an AccessDenied).
        DATASETS_BUCKET: artifactStore.datasetsBucket.bucketName,
        ARTIFACTS_BUCKET: artifactStore.artifactsBucket.bucketName,
        MODEL_SCHEMA: JSON.stringify(modelSchemaFor(model)),
      },
    });
    const { inputPrefix, outputPrefix } = batchLocations(model.name);
    artifactStore.grantReadDatasets(this.scoreFunction, inputPrefix);
    artifactStore.grantReadArtifacts(this.scoreFunction, `${ARTIFACT_PREFIXES.models}${model.name}/`);
    artifactStore.grantWriteArtifacts(this.scoreFunction, outputPrefix);
    artifactStore.grantWriteCapture(this.scoreFunction, `${model.name}/batch/`);
    props.registry.grantRead(this.scoreFunction);
    Validations.of(this.scoreFunction.role!).acknowledge(
      {
        id: objectPrefixFinding(artifactStore.datasetsBucket, inputPrefix),
        reason: "Input objects are the caller's, named per run; reads are limited to this model's dataset prefix.",
      },
      {
        id: objectPrefixFinding(artifactStore.artifactsBucket, `${ARTIFACT_PREFIXES.models}${model.name}/`),
        reason:
          "Reads the artifact of the version the run scores with; version keys are created after deployment, under this model's prefix only.",
      },
      {
        id: objectPrefixFinding(artifactStore.artifactsBucket, outputPrefix),
        reason: "Scored objects and manifests get per-run keys under this model's batch output prefix only.",
      },
      {
        id: objectPrefixFinding(artifactStore.captureBucket, `${model.name}/batch/`),
        reason: "Capture records of scored rows get per-run keys under this model's batch capture prefix only.",
      },
    );

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('states.amazonaws.com'),
      description: `cdk-mlops: batch inference pipeline of ${model.name}`,
    });
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: `cdk-mlops batch inference of ${model.name}`,
      definitionBody: sfn.DefinitionBody.fromFile(BATCH_DEFINITION_PATH),
      definitionSubstitutions: batchSubstitutions({
        modelName: model.name,
        batchScoreFunctionArn: this.scoreFunction.functionArn,
        checkDriftFunctionArn: props.checkDriftFunction.functionArn,
        captureBucket: artifactStore.captureBucket.bucketName,
      }),
      role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ERROR, includeExecutionData: false },
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['lambda:InvokeFunction'],
        resources: [this.scoreFunction.functionArn, props.checkDriftFunction.functionArn],
      }),
    );
    grantDistributedMapRuns(this, role, this.stateMachine);
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'CloudWatch Logs vended-log delivery (logs:CreateLogDelivery and friends) and X-Ray (xray:PutTraceSegments) authorise only "*"; CDK adds them for logging and tracing.',
    });
    Validations.of(this.stateMachine).acknowledge({
      id: 'AwsSolutions-SF1',
      reason:
        'Logs ERROR events by design: ALL would write every state transition (cost) and, with execution data, input URIs and failures.',
    });
    Validations.of(logGroup).acknowledge(
      {
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_encrypted_check',
        reason: 'Execution data is off, so the log holds state names and error causes only; CloudWatch Logs encrypts at rest by default.',
      },
      {
        id: 'cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check',
        reason:
          "Execution history is kept by Step Functions for 90 days and each run's manifest beside its output; the log is for debugging.",
      },
    );
  }
}
