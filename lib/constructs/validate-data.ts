/**
 * The validate-data function with exactly the S3 access it needs: read datasets, read profiles
 * and reports (reference profiles, shard results), write profiles, reports and quarantine
 * objects. The training pipeline invokes it as its first task (single, or shard + merge under a
 * Distributed Map).
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ARTIFACT_PREFIXES } from '../../contracts/artifacts';
import { objectPrefixFinding } from './acknowledgements';
import type { ArtifactStore } from './artifact-store';
import { MlopsFunction } from './mlops-function';

export interface DataValidationProps {
  /** Datasets are read from its datasets bucket; outputs go to its artifacts bucket. */
  readonly artifactStore: ArtifactStore;
  /**
   * The one model this function validates for: it reads only that model's datasets
   * (`<model>/` in the datasets bucket), writes only under its `<prefix>/<model>/` keys, and refuses
   * an event for another model.
   * @default - one function for every model, with bucket-wide prefixes
   */
  readonly modelName?: string;
  /**
   * Memory in MB. CPU grows with memory (1,769 MB is one full vCPU); a reference profile keeps
   * 8 bytes per numeric value while it is built.
   * @default 2048
   */
  readonly memorySize?: number;
  /**
   * Maximum run time of one invocation; datasets too large for it are validated in shard mode.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
  /**
   * Retention of the function's logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
}

export class DataValidation extends Construct {
  readonly validateFunction: MlopsFunction;

  constructor(scope: Construct, id: string, props: DataValidationProps) {
    super(scope, id);
    const { artifactStore } = props;
    this.validateFunction = new MlopsFunction(this, 'Function', {
      functionDirectory: 'validate-data',
      description: 'cdk-mlops validate-data: dataset rules, profile, validation report and quarantine',
      memorySize: props.memorySize ?? 2048,
      timeout: props.timeout ?? Duration.minutes(15),
      logRetention: props.logRetention,
      environment: {
        ARTIFACTS_BUCKET: artifactStore.artifactsBucket.bucketName,
        ...(props.modelName ? { MODEL_NAME: props.modelName } : {}),
      },
    });
    const own = (prefix: string) => (props.modelName ? `${prefix}${props.modelName}/` : prefix);
    artifactStore.grantReadDatasets(this.validateFunction, own(''));
    artifactStore.grantReadArtifacts(this.validateFunction, own(ARTIFACT_PREFIXES.profiles));
    artifactStore.grantReadArtifacts(this.validateFunction, own(ARTIFACT_PREFIXES.reports));
    // splits/: the train, validation and holdout parts and the training job's model document.
    const written = [ARTIFACT_PREFIXES.profiles, ARTIFACT_PREFIXES.reports, ARTIFACT_PREFIXES.quarantine, ARTIFACT_PREFIXES.splits].map(
      own,
    );
    for (const prefix of written) artifactStore.grantWriteArtifacts(this.validateFunction, prefix);
    const objectsUnder = objectPrefixFinding;
    Validations.of(this.validateFunction.role!).acknowledge(
      {
        id: objectsUnder(artifactStore.datasetsBucket, own('')),
        reason: "A dataset is any object or prefix of the model's the pipeline names at run time; reads only, never writes or deletes.",
      },
      ...written.map((prefix) => ({
        id: objectsUnder(artifactStore.artifactsBucket, prefix),
        reason: `Output keys under ${prefix} are named per model and pipeline run at run time; scoped to that prefix, no delete.`,
      })),
    );
  }

  /** Lets a principal (the training pipeline) invoke the function. */
  grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.validateFunction.grantInvoke(grantee);
  }

  /** Errors of the function (faults, not failed validations): for alarms and dashboards. */
  metricErrors(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return this.validateFunction.metricErrors(props);
  }
}
