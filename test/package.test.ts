/**
 * The package as a platform team gets it: `npm pack` (which builds dist/ through "prepack"), the
 * tarball unpacked into a temporary copy of examples/consumer-app/ the way `npm install` places
 * it, and that app synthesized with plain Node.js (no tsx) under cdk-nag and CloudFormation Guard.
 * No network: the consumer's other dependencies are the repository's own node_modules, linked.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../contracts/project-root';

interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
}

const CONSUMER_STACK = 'AcmeMl';

describe('the packed library in a consumer app', () => {
  let workspace: string;
  let app: string;
  let packedFiles: string[];
  let synth: ReturnType<typeof spawnSync>;
  let resources: Record<string, Resource>;

  beforeAll(() => {
    workspace = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-pack-'));
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const packed = JSON.parse(
      execFileSync(npm, ['pack', '--json', '--pack-destination', workspace], {
        cwd: PROJECT_ROOT,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
      }),
    ) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packedFiles = packed[0]!.files.map((file) => file.path);

    app = path.join(workspace, 'consumer-app');
    cpSync(path.join(PROJECT_ROOT, 'examples', 'consumer-app'), app, { recursive: true });
    const modules = path.join(app, 'node_modules');
    mkdirSync(path.join(modules, 'cdk-mlops'), { recursive: true });
    for (const entry of readdirSync(path.join(PROJECT_ROOT, 'node_modules'))) {
      symlinkSync(path.join(PROJECT_ROOT, 'node_modules', entry), path.join(modules, entry));
    }
    // What `npm install <tarball>` does with the package itself: its contents under node_modules/<name>.
    execFileSync('tar', [
      'xzf',
      path.join(workspace, packed[0]!.filename),
      '-C',
      path.join(modules, 'cdk-mlops'),
      '--strip-components',
      '1',
    ]);

    // Node.js ≥ 22.18 runs TypeScript by stripping types: the app runs on the compiled package alone.
    synth = spawnSync(process.execPath, ['app.ts'], {
      cwd: app,
      env: { ...process.env, CDK_OUTDIR: path.join(app, 'cdk.out') },
      encoding: 'utf8',
    });
    const templateFile = path.join(app, 'cdk.out', `${CONSUMER_STACK}.template.json`);
    resources = existsSync(templateFile)
      ? (JSON.parse(readFileSync(templateFile, 'utf8')) as { Resources: Record<string, Resource> }).Resources
      : {};
  }, 240_000);

  afterAll(() => {
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  });

  it('packs compiled JavaScript with declarations, prebuilt function bundles, the ASL, the training program and the serving context', () => {
    expect(packedFiles).toEqual(
      expect.arrayContaining([
        'dist/lib/index.js',
        'dist/lib/index.d.ts',
        'dist/lib/platform.d.ts',
        'dist/lambdas/registry/index.mjs',
        'dist/lambdas/predict/index.mjs',
        'dist/containers/onnx-serving/server.mjs',
        'dist/containers/onnx-serving/Dockerfile',
        'statemachines/training.asl.json',
        'training/train.py',
        'bin/mlops.mjs',
        'dist/cli/mlops.js',
      ]),
    );
    expect(packedFiles.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
    expect(packedFiles.filter((file) => file.startsWith('training/tests/') || file.includes('__pycache__'))).toEqual([]);
  });

  it('synthesizes the consumer app with cdk-nag and CloudFormation Guard clean', () => {
    expect(synth.stderr, String(synth.stderr)).not.toMatch(/Error|Validation failed/);
    expect(synth.status).toBe(0);
    const report = JSON.parse(readFileSync(path.join(app, 'cdk.out', 'validation-report.json'), 'utf8')) as {
      pluginReports: Array<{ pluginName: string; violations: unknown[] }>;
    };
    expect(report.pluginReports.map((plugin) => plugin.pluginName)).toContain('cdk-validator-cfnguard');
    expect(report.pluginReports.flatMap((plugin) => plugin.violations)).toEqual([]);
  });

  it('deploys the functions from the prebuilt bundles, without esbuild at the consumer', () => {
    const assets = JSON.parse(readFileSync(path.join(app, 'cdk.out', `${CONSUMER_STACK}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
      dockerImages: Record<string, { source: { directory: string } }>;
    };
    const functions = Object.values(resources).filter((resource) => resource.Type === 'AWS::Lambda::Function');
    expect(functions.length).toBeGreaterThan(5);
    const staged = Object.values(assets.files).map((file) => path.join(app, 'cdk.out', file.source.path));
    expect(staged.filter((directory) => existsSync(path.join(directory, 'index.mjs'))).length).toBeGreaterThanOrEqual(5);
    const images = Object.values(assets.dockerImages);
    expect(images).toHaveLength(1);
    expect(existsSync(path.join(app, 'cdk.out', images[0]!.source.directory, 'server.mjs'))).toBe(true);
  });

  it("uses the team's bucket, key and topic instead of creating them, and grants on them", () => {
    const types = Object.values(resources).map((resource) => resource.Type);
    expect(types).not.toContain('AWS::KMS::Key');
    expect(types).not.toContain('AWS::SNS::Topic');
    const buckets = Object.keys(resources).filter((id) => resources[id]!.Type === 'AWS::S3::Bucket');
    expect(buckets.some((id) => id.includes('Datasets'))).toBe(false);
    const statements = JSON.stringify(
      Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::IAM::Policy')
        .map((policy) => policy.Properties),
    );
    expect(statements).toContain('arn:aws:s3:::acme-data-lake/churn/*');
    expect(statements).toContain('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab');
    expect(statements).toContain('arn:aws:kms:eu-west-1:111122223333:key/abcd1234-ab12-cd34-ef56-abcdef123456');
    expect(statements).toContain('arn:aws:sns:eu-west-1:111122223333:acme-alerts');
  });

  it('sets the permissions boundary on every role the platform creates and names resources with the prefix', () => {
    const roles = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::IAM::Role');
    expect(roles.length).toBeGreaterThan(5);
    for (const [id, role] of roles) {
      expect(JSON.stringify(role.Properties?.PermissionsBoundary), id).toContain(':policy/acme-workload-boundary');
    }
    const dashboards = Object.values(resources).filter((resource) => resource.Type === 'AWS::CloudWatch::Dashboard');
    expect(dashboards.map((dashboard) => dashboard.Properties?.DashboardName)).toEqual(['acme-ml']);
  });

  it('runs the mlops command from the installed package (the compiled CLI, no tsx)', () => {
    const cli = spawnSync(process.execPath, [path.join(app, 'node_modules', 'cdk-mlops', 'bin', 'mlops.mjs'), '--help'], {
      cwd: app,
      encoding: 'utf8',
    });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    expect(cli.stdout).toMatch(/Usage: mlops/);
  });

  it("places the SageMaker work in the team's VPC, with the endpoints it asked for", () => {
    const types = Object.values(resources).map((resource) => resource.Type);
    expect(types).not.toContain('AWS::EC2::VPC');
    expect(types.filter((type) => type === 'AWS::EC2::VPCEndpoint')).toHaveLength(4);
    const subnets = ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'];
    const models = Object.values(resources).filter((resource) => resource.Type === 'AWS::SageMaker::Model');
    expect(models.map((model) => (model.Properties?.VpcConfig as { Subnets?: string[] } | undefined)?.Subnets)).toEqual([subnets]);
    const definitions = JSON.stringify(Object.values(resources).filter((resource) => resource.Type === 'AWS::StepFunctions::StateMachine'));
    expect(definitions).toContain(subnets[0]);
  });
});
