/**
 * The cdk-mlops stack: composes the platform's constructs from the typed configuration and
 * passes references between them. It holds no logic of its own.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { PlatformConfig } from './config';
import { ArtifactStore } from './constructs/artifact-store';
import { DataValidation } from './constructs/data-validation';
import { ModelRegistry } from './constructs/model-registry';
import { Observability } from './constructs/observability';

export interface MlopsStackProps extends StackProps {
  readonly config: PlatformConfig;
}

export class MlopsStack extends Stack {
  readonly artifactStore: ArtifactStore;
  readonly registry: ModelRegistry;
  readonly observability: Observability;
  readonly dataValidation: DataValidation;

  constructor(scope: Construct, id: string, props: MlopsStackProps) {
    super(scope, id, props);
    const { config } = props;

    this.observability = new Observability(this, 'Observability', {
      platformName: `${config.projectName}-${config.environment}`,
      alertEmail: config.alertEmail,
      monthlyBudgetUsd: config.monthlyBudgetUsd,
    });
    this.artifactStore = new ArtifactStore(this, 'ArtifactStore', { retentionDays: config.retentionDays });
    this.registry = new ModelRegistry(this, 'ModelRegistry', {
      modelNames: config.models.map((model) => model.name),
      logRetention: config.logRetentionDays,
    });

    this.dataValidation = new DataValidation(this, 'DataValidation', {
      artifactStore: this.artifactStore,
      logRetention: config.logRetentionDays,
    });

    new CfnOutput(this, 'DatasetsBucketName', { value: this.artifactStore.datasetsBucket.bucketName });
    new CfnOutput(this, 'ArtifactsBucketName', { value: this.artifactStore.artifactsBucket.bucketName });
    new CfnOutput(this, 'CaptureBucketName', { value: this.artifactStore.captureBucket.bucketName });
    new CfnOutput(this, 'RegistryTableName', { value: this.registry.table.tableName });
    new CfnOutput(this, 'AlertTopicArn', { value: this.observability.alertTopic.topicArn });
    new CfnOutput(this, 'RegistryFunctionName', { value: this.registry.registryFunction.functionName });
    new CfnOutput(this, 'ValidateDataFunctionName', { value: this.dataValidation.validateFunction.functionName });
  }
}
