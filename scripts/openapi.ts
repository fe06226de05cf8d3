/**
 * Exports the platform API's OpenAPI 3 document from the synthesized stack: paths, methods,
 * parameters, request models and responses are read from the API Gateway resources of the
 * CloudFormation template (what `cdk deploy` creates), summaries from the route contract.
 * A model's own copy of a `/models/{name}/...` route is documented once, under `{name}`.
 * Usage: npm run openapi (writes docs/openapi.json); --check exits 1 when the file is stale.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { API_ROUTES, MODEL_NAME_PATTERN } from '../contracts/api';
import { PROJECT_ROOT } from '../contracts/project-root';
import { createApp } from '../lib/app';

export const OPENAPI_PATH = path.join(PROJECT_ROOT, 'docs', 'openapi.json');

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON, read here by key.
type CfnProperties = Record<string, any>;

interface CfnResource {
  readonly Type: string;
  readonly Properties: CfnProperties;
}

const STATUS_DESCRIPTIONS: Record<string, string> = {
  '200': 'OK',
  '400': 'ValidationFailed: the body, a parameter or the request breaks a rule',
  '403': 'Forbidden: not signed for this API, or not allowed',
  '404': 'NotFound: no such model, version, execution or route',
  '409': 'Conflict or InvalidTransition: another change won, or the stage change is not allowed',
  '429': 'Throttled',
  '500': 'InternalError',
};

/** Synthesizes the stack from cdk.json (no bundling, no policy checks) and returns its template. */
export function synthesizedTemplate(): { Resources: Record<string, CfnResource> } {
  const cdkJson = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = mkdtempSync(path.join(tmpdir(), 'cdk-mlops-openapi-'));
  try {
    const { app, stack } = createApp({
      appProps: { context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] }, outdir },
      policyValidation: false,
    });
    return app.synth().getStackByName(stack.stackName).template;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

export function openApiFromTemplate(template: { Resources: Record<string, CfnResource> }, version: string): Record<string, unknown> {
  const resources = template.Resources;
  const ofType = (type: string) => Object.entries(resources).filter(([, resource]) => resource.Type === type);
  const [, restApi] = ofType('AWS::ApiGateway::RestApi')[0] ?? [];
  if (!restApi) throw new Error('the synthesized stack has no AWS::ApiGateway::RestApi');
  const stageName = ofType('AWS::ApiGateway::Stage')[0]?.[1].Properties.StageName ?? 'v1';
  const modelNames = new Map(ofType('AWS::ApiGateway::Model').map(([id, model]) => [id, model.Properties.Name as string]));
  const schemas = Object.fromEntries(
    ofType('AWS::ApiGateway::Model')
      .map(([, model]) => {
        const { $schema: _draft, ...schema } = model.Properties.Schema as Record<string, unknown>;
        return [model.Properties.Name as string, schema] as const;
      })
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  const pathOf = (reference: { Ref?: string }): string => {
    if (!reference.Ref) return '';
    const resource = resources[reference.Ref]!;
    return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
  };

  const paths: Record<string, Record<string, unknown>> = {};
  const modelsWithOwnRoutes = new Set<string>();
  for (const [, method] of ofType('AWS::ApiGateway::Method')) {
    const concrete = pathOf(method.Properties.ResourceId);
    const modelMatch = /^\/models\/([^/{]+)(\/.*)?$/.exec(concrete);
    if (modelMatch) modelsWithOwnRoutes.add(modelMatch[1]!);
    const templatePath = modelMatch ? `/models/{name}${modelMatch[2] ?? ''}` : concrete;
    const verb = (method.Properties.HttpMethod as string).toLowerCase();
    const route = API_ROUTES.find((candidate) => candidate.operation === method.Properties.OperationName);
    const existing = paths[templatePath]?.[verb] as Record<string, unknown> | undefined;
    // The {name} copy of predict is the 404 for unserved models; a model's own copy has the body model.
    if (existing?.requestBody && !method.Properties.RequestModels) continue;
    const requestModel = method.Properties.RequestModels?.['application/json']?.Ref as string | undefined;
    const parameters = [
      ...[...templatePath.matchAll(/\{([^}]+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: parameterSchema(name!),
      })),
      ...Object.keys(method.Properties.RequestParameters ?? {})
        .filter((key) => key.startsWith('method.request.querystring.'))
        .map((key) => ({
          name: key.slice('method.request.querystring.'.length),
          in: 'query',
          required: false,
          schema: { type: 'string' },
        })),
    ];
    paths[templatePath] ??= {};
    paths[templatePath][verb] = {
      operationId: method.Properties.OperationName,
      summary: route?.summary,
      security: [{ [method.Properties.AuthorizationType === 'AWS_IAM' ? 'sigv4' : 'cognito']: [] }],
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(requestModel
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { $ref: `#/components/schemas/${modelNames.get(requestModel)}` } } },
            },
          }
        : {}),
      responses: Object.fromEntries(
        Object.entries(STATUS_DESCRIPTIONS).map(([status, description]) => [
          status,
          status === '200'
            ? { description, content: { 'application/json': { schema: { type: 'object' } } } }
            : { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    };
  }
  const sortedPaths = Object.fromEntries(
    Object.keys(paths)
      .sort()
      .map((key) => [key, Object.fromEntries(Object.entries(paths[key]!).sort(([a], [b]) => a.localeCompare(b)))]),
  );
  return {
    openapi: '3.0.3',
    info: {
      title: restApi.Properties.Name,
      description: `${restApi.Properties.Description} (models with their own routes: ${[...modelsWithOwnRoutes].sort().join(', ')})`,
      version,
    },
    servers: [
      {
        url: 'https://{restApiId}.execute-api.{region}.amazonaws.com/{basePath}',
        variables: { restApiId: { default: 'restApiId' }, region: { default: 'us-east-1' }, basePath: { default: stageName } },
      },
    ],
    paths: sortedPaths,
    components: {
      schemas,
      securitySchemes: {
        sigv4: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'awsSigv4' },
        cognito: { type: 'apiKey', name: 'Authorization', in: 'header', 'x-amazon-apigateway-authtype': 'cognito_user_pools' },
      },
    },
  };
}

function parameterSchema(name: string): Record<string, unknown> {
  if (name === 'name') return { type: 'string', pattern: MODEL_NAME_PATTERN };
  if (name === 'version') return { type: 'integer', minimum: 1 };
  return { type: 'string', description: 'the URL-encoded execution ARN' };
}

export function renderOpenApi(): string {
  const version = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  return `${JSON.stringify(openApiFromTemplate(synthesizedTemplate(), version), null, 2)}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = renderOpenApi();
  if (process.argv.includes('--check')) {
    const current = readFileSync(OPENAPI_PATH, 'utf8');
    if (current !== text) {
      process.stderr.write('docs/openapi.json is stale: run npm run openapi\n');
      process.exit(1);
    }
  } else {
    writeFileSync(OPENAPI_PATH, text);
    process.stdout.write(`wrote ${path.relative(PROJECT_ROOT, OPENAPI_PATH)}\n`);
  }
}
