/**
 * The registry state the rollout, serving and batch tests start from: churn versions 1…count
 * registered one after another, each with the same artifact digest and training lineage.
 */
import type { Registry } from '../../lambdas/shared/registry/registry-service';

export async function registerChurnVersions(registry: Pick<Registry, 'registerVersion'>, count: number, actor: string): Promise<void> {
  for (let number = 1; number <= count; number++) {
    await registry.registerVersion({
      modelName: 'churn',
      artifactUri: `s3://artifacts/models/churn/v${number}/model.tar.gz`,
      artifactSha256: 'a'.repeat(64),
      lineage: { datasetUri: 's3://datasets/churn/train.csv', datasetEtag: '"1"' },
      actor,
    });
  }
}
