/**
 * The ONNX serving container (containers/onnx-serving) as a Docker image asset built from this
 * repository. Its build context is assembled at synth time with the local esbuild (never Docker):
 * the bundled server with its source map, the Dockerfile, and a package.json pinning
 * onnxruntime-node to the version the repository installs. The image itself is built and pushed
 * when the asset is published (`cdk deploy`), so synth needs no Docker. The context is hashed
 * from its files, so the image changes exactly when the server's code, the Dockerfile or the
 * onnxruntime-node version does.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { AssetHashType, AssetStaging, DockerImage } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { PREBUILT_DIRECTORY, PROJECT_ROOT, RUNNING_FROM_SOURCE } from '../../contracts/project-root';
import { esbuildOptionsOf } from './mlops-function';

/** The container's source folder: server.ts (the bundle's entry) and the Dockerfile. */
export const SERVING_CONTAINER_DIRECTORY = path.join(PROJECT_ROOT, 'containers', 'onnx-serving');
/** The Dockerfile's base image (a public ECR mirror of Docker Hub's node image, no Docker Hub rate limits). */
export const SERVING_BASE_IMAGE = 'public.ecr.aws/docker/library/node:24-slim';
/** Where the compiled package keeps the build context `npm pack` staged (stageServingImageContext). */
export const PREBUILT_SERVING_CONTEXT = path.join(PREBUILT_DIRECTORY, 'containers', 'onnx-serving');

/** The one package the bundle leaves out: a native addon, installed into the image by npm. */
const ONNXRUNTIME_PACKAGE = 'onnxruntime-node';
/** Platforms onnxruntime-node ships a Linux binary for. */
const SUPPORTED_PLATFORMS = [ecrAssets.Platform.LINUX_AMD64.platform, ecrAssets.Platform.LINUX_ARM64.platform];

/**
 * Writes the image's build context into `outputDirectory`: server.mjs and server.mjs.map (the
 * server bundled as ESM for the Node.js major of the base image, onnxruntime-node external),
 * the Dockerfile, and package.json. Returns the file names written.
 */
export function stageServingImageContext(outputDirectory: string): string[] {
  // esbuild is a build tool, loaded only here: the compiled package ships the staged context.
  const { buildSync } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  const bundle = buildSync({
    ...esbuildOptionsOf([ONNXRUNTIME_PACKAGE]),
    entryPoints: [path.join(SERVING_CONTAINER_DIRECTORY, 'server.ts')],
    absWorkingDir: PROJECT_ROOT,
    // Never written there (write: false): paths in the output, the source map's among them, are
    // relative to this fixed location, so the bundle has the same bytes wherever the assembly is.
    outfile: path.join(SERVING_CONTAINER_DIRECTORY, 'server.mjs'),
    write: false,
    sourcemap: 'linked',
    sourcesContent: false,
  });
  const written = bundle.outputFiles.map((file) => {
    writeFileSync(path.join(outputDirectory, path.basename(file.path)), file.contents);
    return path.basename(file.path);
  });
  copyFileSync(path.join(SERVING_CONTAINER_DIRECTORY, 'Dockerfile'), path.join(outputDirectory, 'Dockerfile'));
  const packageJson = {
    name: 'cdk-mlops-onnx-serving',
    private: true,
    description: 'The ONNX serving container of cdk-mlops; server.mjs is bundled, only the native addon is installed.',
    dependencies: { [ONNXRUNTIME_PACKAGE]: installedVersion(ONNXRUNTIME_PACKAGE) },
  };
  writeFileSync(path.join(outputDirectory, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  return [...written, 'Dockerfile', 'package.json'];
}

/** The version npm installed in this repository: the one every test ran against. */
function installedVersion(name: string): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve(`${name}/package.json`, { paths: [PROJECT_ROOT] });
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

/** The image platform an instance type runs: arm64 for Graviton families (`ml.c7g`, `ml.m6gd`, ...), x86-64 otherwise. */
export function servingImagePlatformFor(instanceType: string): ecrAssets.Platform {
  return /^ml\.[a-z]+\d+g[a-z]*\./.test(instanceType) ? ecrAssets.Platform.LINUX_ARM64 : ecrAssets.Platform.LINUX_AMD64;
}

export interface ServingImageProps {
  /**
   * The CPU architecture of the image; it must match the endpoint's instance type
   * (see servingImagePlatformFor).
   * @default ecrAssets.Platform.LINUX_AMD64 - the default endpoint instance type, ml.c6i.large, is x86-64
   */
  readonly platform?: ecrAssets.Platform;
}

export class ServingImage extends Construct {
  readonly asset: ecrAssets.DockerImageAsset;
  /** The image URI (in the CDK bootstrap's container asset repository) for `PrimaryContainer.Image`. */
  readonly imageUri: string;
  readonly platform: ecrAssets.Platform;

  constructor(scope: Construct, id: string, props: ServingImageProps = {}) {
    super(scope, id);
    this.platform = props.platform ?? ecrAssets.Platform.LINUX_AMD64;
    if (!SUPPORTED_PLATFORMS.includes(this.platform.platform)) {
      throw new Error(`platform must be one of ${SUPPORTED_PLATFORMS.join(', ')}, got ${this.platform.platform}`);
    }
    this.asset = new ecrAssets.DockerImageAsset(this, 'Image', {
      directory: RUNNING_FROM_SOURCE ? this.stageContext() : PREBUILT_SERVING_CONTEXT,
      platform: this.platform,
      displayName: 'ONNX serving container',
    });
    this.imageUri = this.asset.imageUri;
  }

  /** The build context bundled now from the sources, into the assembly. */
  private stageContext(): string {
    // Local bundling into the assembly, as the Lambda bundles are made; the image is only ever
    // required by the API, never pulled (local bundling always succeeds).
    const context = new AssetStaging(this, 'BuildContext', {
      sourcePath: SERVING_CONTAINER_DIRECTORY,
      assetHashType: AssetHashType.OUTPUT,
      bundling: {
        image: DockerImage.fromRegistry(SERVING_BASE_IMAGE),
        local: {
          tryBundle: (outputDirectory) => {
            stageServingImageContext(outputDirectory);
            return true;
          },
        },
      },
    });
    return context.absoluteStagedPath;
  }

  /**
   * What SageMaker needs to start the container with a role: pull rights on the asset
   * repository and `ecr:GetAuthorizationToken` (which IAM authorises only on "*").
   */
  grantPull(grantee: iam.IGrantable): iam.Grant {
    return this.asset.repository.grantPull(grantee);
  }
}
