/**
 * docs/openapi.json is the OpenAPI export of the synthesized API, kept in step with the code:
 * regenerating it from the stack gives the committed file, and it documents every route.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { API_ROUTES } from '../../contracts/api';
import { OPENAPI_PATH, renderOpenApi } from '../../scripts/openapi';

describe('docs/openapi.json', () => {
  const generated = renderOpenApi();
  const document = JSON.parse(generated);

  it('matches what `npm run openapi` exports from the synthesized stack', () => {
    expect(readFileSync(OPENAPI_PATH, 'utf8')).toBe(generated);
  });

  it('documents every route of the contract with SigV4 security and the error responses', () => {
    for (const route of API_ROUTES) {
      const operation = document.paths[route.path]?.[route.method.toLowerCase()];
      expect(operation, `${route.method} ${route.path}`).toMatchObject({ operationId: route.operation, security: [{ sigv4: [] }] });
      expect(Object.keys(operation.responses)).toEqual(['200', '400', '403', '404', '409', '429', '500']);
    }
    expect(document.paths['/models/{name}/predict'].post.requestBody.content['application/json'].schema).toEqual({
      $ref: '#/components/schemas/PredictRequest',
    });
    expect(document.components.schemas.Error.required).toEqual(['error']);
  });
});
