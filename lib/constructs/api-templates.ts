/**
 * The platform API's mapping templates (Velocity Template Language), apart from the construct as
 * aws-cdk-lib keeps VTL apart: the StartExecution request and response, Step Functions' and
 * SageMaker's errors in the API's error body, and API Gateway's own error responses. Every
 * template produces the contract's `{ error: { code, message, details } }` body.
 */
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import { INVALID_BODY_MESSAGE, NO_ROUTE_MESSAGE } from '../../contracts/api';

/** A JSON string literal of a VTL expression, valid JSON even when the value holds quotes. */
function vtlJsonString(expression: string): string {
  // escapeJavaScript also escapes ' as \' (not valid JSON); undo that one.
  return `"$util.escapeJavaScript(${expression}).replaceAll("\\\\'","'")"`;
}

/**
 * The StartExecution request template: the body's `model` picks the state machine, the whole
 * (validated) body becomes the execution input. An unknown model cannot pass the body's
 * schema; should one arrive anyway the ARN stays empty and Step Functions refuses it (400).
 */
export function startExecutionTemplate(stateMachineArns: ReadonlyMap<string, string>): string {
  const branches = [...stateMachineArns].map(
    ([model, arn], index) => `#${index === 0 ? 'if' : 'elseif'}($model == "${model}")\n#set($stateMachineArn = "${arn}")`,
  );
  return [
    "#set($model = $input.path('$.model'))",
    '#set($stateMachineArn = "")',
    ...branches,
    ...(branches.length > 0 ? ['#end'] : []),
    `{"stateMachineArn": "$stateMachineArn", "input": ${vtlJsonString("$input.json('$')")}}`,
  ].join('\n');
}

/** Step Functions' client errors (`__type`) → the API's status and code. */
export const START_EXECUTION_ERROR_TEMPLATE = [
  "#set($type = $input.path('$.__type'))",
  '#if($type.contains("ExecutionLimitExceeded") || $type.contains("Throttling"))',
  '#set($context.responseOverride.status = 429)',
  '#set($code = "Throttled")',
  '#elseif($type.contains("ExecutionAlreadyExists"))',
  '#set($context.responseOverride.status = 409)',
  '#set($code = "Conflict")',
  '#elseif($type.contains("StateMachineDoesNotExist") || $type.contains("StateMachineDeleting"))',
  '#set($context.responseOverride.status = 404)',
  '#set($code = "NotFound")',
  '#elseif($type.contains("AccessDenied"))',
  '#set($context.responseOverride.status = 403)',
  '#set($code = "Forbidden")',
  '#else',
  '#set($code = "ValidationFailed")',
  '#end',
  `{"error": {"code": "$code", "message": ${vtlJsonString("$input.path('$.message')")}, "details": {"stepFunctionsError": ${vtlJsonString('$type')}}}}`,
].join('\n');

export const START_EXECUTION_RESPONSE_TEMPLATE = `{"executionArn": $input.json('$.executionArn'), "startDate": $input.json('$.startDate')}`;

/** An AWS service's 5xx, without its text. */
export const INTERNAL_ERROR_TEMPLATE = `{"error": {"code": "InternalError", "message": "the request failed", "details": {"requestId": "$context.requestId"}}}`;

/** SageMaker runtime errors (the container's own 4xx arrive as 424 ModelError). */
export const ENDPOINT_ERROR_TEMPLATE = `{"error": {"code": "ValidationFailed", "message": "the endpoint refused the request", "details": {"endpointError": $input.json('$')}}}`;
export const THROTTLED_TEMPLATE = `{"error": {"code": "Throttled", "message": "the endpoint is throttling requests", "details": {}}}`;

/** Every API Gateway-made error (validation, auth, throttling, missing route, 5xx) in the API's error body. */
export function addGatewayResponses(restApi: apigateway.RestApi): void {
  const respond = (
    id: string,
    type: apigateway.ResponseType,
    statusCode: string | undefined,
    code: string,
    message: string,
    details = '{}',
  ) =>
    restApi.addGatewayResponse(id, {
      type,
      statusCode,
      templates: {
        'application/json': `{"error": {"code": "${code}", "message": ${message}, "details": ${details}}}`,
      },
    });
  respond(
    'BadRequestBody',
    apigateway.ResponseType.BAD_REQUEST_BODY,
    '400',
    'ValidationFailed',
    JSON.stringify(INVALID_BODY_MESSAGE),
    '{"validation": "$context.error.validationErrorString"}',
  );
  respond(
    'BadRequestParameters',
    apigateway.ResponseType.BAD_REQUEST_PARAMETERS,
    '400',
    'ValidationFailed',
    '$context.error.messageString',
  );
  respond(
    'MissingAuthenticationToken',
    apigateway.ResponseType.MISSING_AUTHENTICATION_TOKEN,
    '404',
    'NotFound',
    JSON.stringify(NO_ROUTE_MESSAGE),
  );
  for (const [id, type] of [
    ['AccessDenied', apigateway.ResponseType.ACCESS_DENIED],
    ['InvalidSignature', apigateway.ResponseType.INVALID_SIGNATURE],
    ['ExpiredToken', apigateway.ResponseType.EXPIRED_TOKEN],
    ['Unauthorized', apigateway.ResponseType.UNAUTHORIZED],
  ] as const) {
    respond(id, type, '403', 'Forbidden', '$context.error.messageString');
  }
  respond('Throttled', apigateway.ResponseType.THROTTLED, '429', 'Throttled', '$context.error.messageString');
  respond('QuotaExceeded', apigateway.ResponseType.QUOTA_EXCEEDED, '429', 'Throttled', '$context.error.messageString');
  // Other 4xx (413 too large, 415 media type, ...) keep their status.
  respond('Default4xx', apigateway.ResponseType.DEFAULT_4XX, undefined, 'ValidationFailed', '$context.error.messageString');
  respond(
    'Default5xx',
    apigateway.ResponseType.DEFAULT_5XX,
    '500',
    'InternalError',
    '$context.error.messageString',
    '{"requestId": "$context.requestId"}',
  );
}
