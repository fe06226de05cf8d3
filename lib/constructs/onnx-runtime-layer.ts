/**
 * A Lambda layer holding onnxruntime-node for one architecture only. The npm package carries
 * the native binaries of every platform (about 290 MB unpacked, over Lambda's 250 MB limit);
 * the layer keeps its JavaScript, the one Linux binary the function's architecture loads and
 * onnxruntime-common, about 26 MB unpacked. It is assembled at synth time by copying files
 * out of node_modules (CDK local bundling; never Docker).
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { AssetHashType, DockerImage, RemovalPolicy } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { PROJECT_ROOT } from '../../contracts/project-root';
import { LAMBDA_RUNTIME } from './mlops-function';

/** Lambda's limit on a function's unzipped code plus layers. */
export const LAMBDA_UNZIPPED_LIMIT_BYTES = 250 * 1024 * 1024;

const require = createRequire(import.meta.url);

/** Where Node.js looks for a layer's packages: /opt/nodejs/node_modules. */
const LAYER_MODULES = path.join('nodejs', 'node_modules');

/** The folder of an installed package (found from its entry point: onnxruntime-common does not export package.json). */
function packageDirectory(name: string): string {
  let directory = path.dirname(require.resolve(name, { paths: [PROJECT_ROOT] }));
  while (!existsSync(path.join(directory, 'package.json')) || path.basename(directory) !== name) {
    const parent = path.dirname(directory);
    if (parent === directory) throw new Error(`cannot find the folder of package ${name}`);
    directory = parent;
  }
  return directory;
}

function packageVersion(name: string): string {
  return (JSON.parse(readFileSync(path.join(packageDirectory(name), 'package.json'), 'utf8')) as { version: string }).version;
}

/** Node's `process.arch` for a Lambda architecture: the folder name of onnxruntime-node's binary. */
export function nodeArchFor(architecture: lambda.Architecture): 'arm64' | 'x64' {
  return architecture === lambda.Architecture.ARM_64 ? 'arm64' : 'x64';
}

/**
 * Writes the layer's tree into `outputDirectory`: onnxruntime-node without other platforms'
 * binaries, and onnxruntime-common. Its install-time helpers (adm-zip, global-agent) are not
 * needed at run time and are left out. Returns the unzipped size in bytes.
 */
export function stageOnnxRuntimeLayer(outputDirectory: string, architecture: lambda.Architecture): number {
  const arch = nodeArchFor(architecture);
  const modules = path.join(outputDirectory, LAYER_MODULES);
  const onnxNode = packageDirectory('onnxruntime-node');
  const target = path.join(modules, 'onnxruntime-node');
  mkdirSync(target, { recursive: true });
  cpSync(path.join(onnxNode, 'package.json'), path.join(target, 'package.json'));
  cpSync(path.join(onnxNode, 'dist'), path.join(target, 'dist'), { recursive: true, filter: isRuntimeFile });
  const napiVersions = readdirSync(path.join(onnxNode, 'bin')).filter((entry) => entry.startsWith('napi-v'));
  for (const napi of napiVersions) {
    const binary = path.join(onnxNode, 'bin', napi, 'linux', arch);
    if (existsSync(binary)) cpSync(binary, path.join(target, 'bin', napi, 'linux', arch), { recursive: true });
  }
  if (!existsSync(path.join(target, 'bin'))) {
    throw new Error(`onnxruntime-node ${packageVersion('onnxruntime-node')} ships no linux/${arch} binary`);
  }
  const common = packageDirectory('onnxruntime-common');
  const commonTarget = path.join(modules, 'onnxruntime-common');
  mkdirSync(commonTarget, { recursive: true });
  cpSync(path.join(common, 'package.json'), path.join(commonTarget, 'package.json'));
  cpSync(path.join(common, 'dist'), path.join(commonTarget, 'dist'), { recursive: true, filter: isRuntimeFile });
  return directorySize(outputDirectory);
}

/** Source maps and type declarations are never loaded at run time. */
function isRuntimeFile(source: string): boolean {
  return !source.endsWith('.map') && !source.endsWith('.d.ts');
}

function directorySize(directory: string): number {
  return readdirSync(directory, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .reduce((total, entry) => total + statSync(path.join(entry.parentPath, entry.name)).size, 0);
}

export interface OnnxRuntimeLayerProps {
  /**
   * The architecture whose binary the layer carries; functions using it must match.
   * @default lambda.Architecture.ARM_64
   */
  readonly architecture?: lambda.Architecture;
}

export class OnnxRuntimeLayer extends Construct {
  readonly layer: lambda.LayerVersion;
  readonly architecture: lambda.Architecture;

  constructor(scope: Construct, id: string, props: OnnxRuntimeLayerProps = {}) {
    super(scope, id);
    this.architecture = props.architecture ?? lambda.Architecture.ARM_64;
    const architecture = this.architecture;
    const version = packageVersion('onnxruntime-node');
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `onnxruntime-node ${version} for Node.js on Lambda, linux/${nodeArchFor(architecture)} only`,
      compatibleRuntimes: [LAMBDA_RUNTIME],
      compatibleArchitectures: [architecture],
      // The ~290 MB package is never hashed: the layer is a function of the package versions and this layout.
      code: lambda.Code.fromAsset(packageDirectory('onnxruntime-node'), {
        assetHashType: AssetHashType.CUSTOM,
        assetHash: `onnxruntime-node-${version}-common-${packageVersion('onnxruntime-common')}-${nodeArchFor(architecture)}-layout-1`,
        bundling: {
          // Required by the API; never pulled, because local bundling always succeeds.
          image: DockerImage.fromRegistry('public.ecr.aws/sam/build-nodejs24.x'),
          local: {
            tryBundle: (outputDirectory) => {
              const bytes = stageOnnxRuntimeLayer(outputDirectory, architecture);
              if (bytes > LAMBDA_UNZIPPED_LIMIT_BYTES) {
                throw new Error(`the onnxruntime layer is ${bytes} bytes unzipped, over Lambda's ${LAMBDA_UNZIPPED_LIMIT_BYTES}`);
              }
              return true;
            },
          },
        },
      }),
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
