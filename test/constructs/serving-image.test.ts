/**
 * ServingImage: synth assembles the container's build context with the local esbuild and no
 * Docker, the assembly names a Docker image asset over it, the context is deterministic, the
 * bundled server in it runs, and the grant and environment helpers give SageMaker what it needs.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { App, CfnOutput, Stack } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { LAMBDA_ESBUILD_TARGET } from '../../lib/constructs/mlops-function';
import { SERVING_BASE_IMAGE, ServingImage, servingImagePlatformFor } from '../../lib/constructs/serving-image';
import { CHURN_SCHEMA, churnModelBytes, churnProbability, churnRows } from '../../testkit/churn-model';
import { startServing, stopServing, waitUntilHealthy } from '../containers/serving-process';
import { cdkJsonContext, policyStatements, Template } from '../support/cdk';

const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const root = mkdtempSync(path.join(tmpdir(), 'serving-image-'));

interface DockerImageEntry {
  readonly displayName?: string;
  readonly source: { readonly directory: string; readonly platform?: string };
}

/** Synthesizes a stack holding the image and a role allowed to pull it, into its own assembly folder. */
function synth(name: string, platform?: ecrAssets.Platform) {
  const { mlops: _mlops, ...featureFlags } = cdkJsonContext;
  const outdir = path.join(root, name);
  const app = new App({ context: featureFlags, outdir });
  const stack = new Stack(app, 'Serving', { env: { account: ACCOUNT, region: REGION } });
  const image = new ServingImage(stack, 'ServingImage', platform ? { platform } : {});
  const role = new iam.Role(stack, 'ExecutionRole', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
  image.grantPull(role);
  new CfnOutput(stack, 'ImageUri', { value: image.imageUri });
  app.synth();
  const manifest = JSON.parse(readFileSync(path.join(outdir, 'Serving.assets.json'), 'utf8')) as {
    dockerImages: Record<string, DockerImageEntry>;
  };
  const [[hash, entry]] = Object.entries(manifest.dockerImages) as [[string, DockerImageEntry]];
  return { image, template: Template.fromStack(stack), hash, entry, context: path.join(outdir, entry.source.directory) };
}

describe('ServingImage', () => {
  let amd64: ReturnType<typeof synth>;

  beforeAll(() => {
    // Any Docker call during synth would fail: the image must be built only when the asset is published.
    vi.stubEnv('CDK_DOCKER', path.join(root, 'no-docker-here'));
    amd64 = synth('amd64');
  });

  afterAll(() => {
    vi.unstubAllEnvs();
    rmSync(root, { recursive: true, force: true });
  });

  it('puts one Docker image asset in the assembly, for linux/amd64, built from the staged context', () => {
    expect(amd64.entry).toMatchObject({ displayName: 'ONNX serving container', source: { platform: 'linux/amd64' } });
    expect(readdirSync(amd64.context).sort()).toEqual(['Dockerfile', 'package.json', 'server.mjs', 'server.mjs.map']);
  });

  it('pins onnxruntime-node in the context to the version the repository installs', () => {
    const repository = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const context = JSON.parse(readFileSync(path.join(amd64.context, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(context.dependencies).toEqual({ 'onnxruntime-node': repository.dependencies['onnxruntime-node'] });
  });

  it('builds on the base image whose Node.js major the bundle targets, runs as SageMaker expects, and skips the CUDA download', () => {
    const dockerfile = readFileSync(path.join(amd64.context, 'Dockerfile'), 'utf8');
    const instructions = dockerfile.split('\n').filter((line) => /^[A-Z]+ /.test(line));
    expect(instructions[0]).toBe(`FROM ${SERVING_BASE_IMAGE}`);
    expect(SERVING_BASE_IMAGE).toContain(`node:${LAMBDA_ESBUILD_TARGET.replace('node', '')}-`);
    expect(instructions).toContain('ENV ONNXRUNTIME_NODE_INSTALL=skip');
    expect(instructions).toContain('EXPOSE 8080');
    expect(instructions.at(-1)).toBe('ENTRYPOINT ["node", "--enable-source-maps", "/opt/server/server.mjs"]');
    expect(instructions.filter((line) => line.startsWith('USER '))).toEqual([]);
    expect(dockerfile).toContain('npm install --omit=dev');
  });

  it('is the same asset on every synth: the context is a function of the code, not of the machine or the run', () => {
    const again = synth('amd64-again');
    expect(again.hash).toBe(amd64.hash);
    for (const file of ['server.mjs', 'server.mjs.map']) {
      expect(readFileSync(path.join(again.context, file))).toEqual(readFileSync(path.join(amd64.context, file)));
    }
    expect(readFileSync(path.join(amd64.context, 'server.mjs.map'), 'utf8')).not.toContain(PROJECT_ROOT);
  });

  it('names the image in the bootstrap’s asset repository, tagged with the asset hash', () => {
    const uri = JSON.stringify(amd64.template.toJSON().Outputs.ImageUri.Value);
    expect(uri).toContain(`${ACCOUNT}.dkr.ecr.${REGION}.`);
    expect(uri).toContain(`/cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}:${amd64.hash}`);
  });

  it('grants pull on the asset repository, and GetAuthorizationToken on "*" (the only resource IAM takes)', () => {
    const statements = policyStatements(amd64.template);
    expect(statements).toEqual([
      {
        Effect: 'Allow',
        Action: ['ecr:BatchCheckLayerAvailability', 'ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'],
        Resource: `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}`,
      },
      { Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    ]);
  });

  it('runs the bundled server from the context, serving a model as the image will', async () => {
    const modelDirectory = path.join(root, 'model');
    mkdirSync(modelDirectory);
    writeFileSync(path.join(modelDirectory, 'model.onnx'), churnModelBytes());
    // The image installs onnxruntime-node beside server.mjs; here the repository's copy stands in for it.
    const serving = await startServing(
      { SM_MODEL_DIR: modelDirectory, MODEL_SCHEMA: JSON.stringify(CHURN_SCHEMA), NODE_PATH: path.join(PROJECT_ROOT, 'node_modules') },
      path.join(amd64.context, 'server.mjs'),
    );
    try {
      await waitUntilHealthy(serving.url);
      const rows = churnRows(5);
      const response = await fetch(`${serving.url}/invocations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ instances: rows }),
      });
      const body = (await response.json()) as { modelVersion: number; predictions: Array<{ probabilities: number[] }> };
      expect(response.status).toBe(200);
      expect(body.modelVersion).toBe(0);
      body.predictions.forEach((prediction, index) => {
        expect(prediction.probabilities[1]).toBeCloseTo(churnProbability(rows[index]!), 5);
      });
    } finally {
      await stopServing(serving);
    }
  });

  it('skips the bundle in a stack excluded from bundling (as construct tests do) and still names an image', () => {
    const { mlops: _mlops, ...featureFlags } = cdkJsonContext;
    const app = new App({ context: { ...featureFlags, 'aws:cdk:bundling-stacks': [] }, outdir: path.join(root, 'skipped') });
    const image = new ServingImage(new Stack(app, 'Skipped'), 'ServingImage');
    expect(image.asset.assetHash).toMatch(/^[0-9a-f]{64}$/);
    expect(readdirSync(path.join(PROJECT_ROOT, 'containers', 'onnx-serving'))).not.toContain('server.mjs');
  });

  it('builds for linux/arm64 when asked, and refuses a platform onnxruntime-node has no binary for', () => {
    expect(synth('arm64', ecrAssets.Platform.LINUX_ARM64).entry.source.platform).toBe('linux/arm64');
    const stack = new Stack(new App({ outdir: path.join(root, 'windows') }), 'Windows');
    expect(() => new ServingImage(stack, 'ServingImage', { platform: ecrAssets.Platform.custom('windows/amd64') })).toThrow(
      'platform must be one of linux/amd64, linux/arm64, got windows/amd64',
    );
  });
});

describe('servingImagePlatformFor', () => {
  it.each([
    ['ml.c6i.large', 'linux/amd64'],
    ['ml.m5d.xlarge', 'linux/amd64'],
    ['ml.g5.xlarge', 'linux/amd64'],
    ['ml.c7g.large', 'linux/arm64'],
    ['ml.m6gd.2xlarge', 'linux/arm64'],
    ['ml.c6gn.xlarge', 'linux/arm64'],
  ])('picks the image platform of %s', (instanceType, platform) => {
    expect(servingImagePlatformFor(instanceType).platform).toBe(platform);
  });
});
