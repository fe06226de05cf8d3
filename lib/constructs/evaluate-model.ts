/**
 * The evaluate-model function (onnxruntime-node from a layer holding only the function
 * architecture's binary) with exactly the access it needs: read model artifacts and holdout
 * datasets, read the registry (the production champion), write evaluation reports. Metrics
 * leave through the embedded metric format in its logs, so it holds no cloudwatch:PutMetricData.
 * One instance serves every model: the pipeline passes the model's entry in the event.
 */
import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import type { ArtifactStore } from './artifact-store';
import { MlopsFunction } from './mlops-function';
import type { ModelRegistry } from './model-registry';
import { OnnxRuntimeLayer } from './onnx-runtime-layer';

export interface ModelEvaluationProps {
  /** Artifacts and reports live in its artifacts bucket; holdouts in its datasets bucket. */
  readonly artifactStore: ArtifactStore;
  /** Where the production champion is looked up. */
  readonly registry: ModelRegistry;
  /**
   * The one model this function evaluates: it reads only that model's artifacts, splits and
   * datasets, writes only its reports, and refuses an event for another model.
   * @default - one function for every model
   */
  readonly modelName?: string;
  /**
   * The on-demand price of the model's training instances: the function then publishes each
   * run's TrainingCostUsd and SpotSavingsUsd.
   * @default - no price: the function publishes training seconds only
   */
  readonly trainingPrice?: { readonly instanceHourUsd: number; readonly instanceCount: number };
  /**
   * Memory in MB. CPU grows with memory (1,769 MB is one full vCPU); the encoded holdout takes
   * 4 bytes per feature value, and two ONNX sessions (challenger and champion) are loaded.
   * @default 2048
   */
  readonly memorySize?: number;
  /**
   * Maximum run time of one evaluation.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Instruction set of the function and of the onnxruntime layer.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class ModelEvaluation extends Construct {
  readonly evaluateFunction: MlopsFunction;

  constructor(scope: Construct, id: string, props: ModelEvaluationProps) {
    super(scope, id);
    const { artifactStore, registry } = props;
    const price = props.trainingPrice;
    if (price && !(price.instanceHourUsd > 0 && Number.isInteger(price.instanceCount) && price.instanceCount >= 1)) {
      throw new Error(
        `trainingPrice must be a positive instanceHourUsd and a positive integer instanceCount, got ${price.instanceHourUsd} and ${price.instanceCount}`,
      );
    }
    const architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const runtime = new OnnxRuntimeLayer(this, 'OnnxRuntime', { architecture });

    this.evaluateFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'evaluate-model',
      description: 'cdk-mlops evaluate-model: scores the holdout with the trained ONNX model, gates on thresholds and the champion',
      memorySize: props.memorySize ?? 2048,
      timeout: props.timeout ?? Duration.minutes(15),
      architecture,
      layers: [runtime.layer],
      logRetention: props.logRetention,
      // onnxruntime-node comes from the layer (FUNCTION_EXTERNAL_MODULES leaves it out of the bundle).
      environment: {
        ARTIFACTS_BUCKET: artifactStore.artifactsBucket.bucketName,
        TABLE_NAME: registry.table.tableName,
        ...(props.modelName ? { MODEL_NAME: props.modelName } : {}),
        ...(props.trainingPrice
          ? {
              TRAINING_INSTANCE_HOUR_USD: String(props.trainingPrice.instanceHourUsd),
              TRAINING_INSTANCE_COUNT: String(props.trainingPrice.instanceCount),
            }
          : {}),
      },
    });
    const own = (prefix: string) => (props.modelName ? `${prefix}${props.modelName}/` : prefix);
    // The challenger's artifact and the champion's.
    artifactStore.grantReadArtifacts(this.evaluateFunction, own(ARTIFACT_PREFIXES.models));
    // The holdout validate-data split off the run's dataset, or a holdout the run names in the datasets bucket.
    artifactStore.grantReadArtifacts(this.evaluateFunction, own(ARTIFACT_PREFIXES.splits));
    artifactStore.grantReadDatasets(this.evaluateFunction, own(''));
    artifactStore.grantWriteArtifacts(this.evaluateFunction, own(ARTIFACT_PREFIXES.reports));
    registry.grantRead(this.evaluateFunction);
  }

  /** Lets a principal (the training pipeline) invoke the function. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.evaluateFunction.grantInvoke(grantee);
  }

  /** Errors of the function (faults, not failed gates): for alarms and dashboards. */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.evaluateFunction.metricErrors(props);
  }
}
