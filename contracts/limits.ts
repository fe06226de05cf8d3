/**
 * Patterns and limits several contracts share, as plain constants (no zod), so a function that
 * needs only a limit (the API function, predict) does not bundle a schema library for it.
 */

/** Names that become part of S3 keys, DynamoDB keys and SageMaker job names. */
export const RESOURCE_NAME_PATTERN = /^[a-z][a-z0-9-]*$/;
export const RESOURCE_NAME_RULE = 'must start with a lowercase letter and contain only a-z, 0-9 and -';
/** Model names: within SageMaker's 63-character job names together with a run id. */
export const MAX_MODEL_NAME_LENGTH = 48;
/** The project name: a prefix of every physical name the stack derives. */
export const MAX_PROJECT_NAME_LENGTH = 24;
/** s3://bucket/key — bucket names as S3 allows them, a key of at least one character. */
export const S3_URI_PATTERN = /^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/.+/;
/** One predict request may carry at most this many rows (a 6 MB Lambda payload holds about this many). */
export const MAX_ROWS_PER_REQUEST = 10_000;
/** API Gateway REST APIs: the largest request payload (10 MB). */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;
/**
 * Lambda's synchronous Invoke: the largest request and the largest response payload (6 MB each);
 * SageMaker's InvokeEndpoint takes and returns at most the same for a real-time endpoint.
 */
export const SYNC_INVOKE_MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
/** Room a Lambda proxy event or response needs beside its body: headers, request context, status. */
export const PROXY_ENVELOPE_BYTES = 64 * 1024;
/**
 * The largest predict request or response body, measured as the JSON string a Lambda proxy event
 * (or response) carries it in (quotes and backslashes escaped), that fits a synchronous invocation.
 */
export const MAX_PREDICT_BODY_BYTES = SYNC_INVOKE_MAX_PAYLOAD_BYTES - PROXY_ENVELOPE_BYTES;
/** Lambda's asynchronous Invoke (`InvocationType: Event`): the largest request payload (1 MB). */
export const ASYNC_INVOKE_MAX_PAYLOAD_BYTES = 1024 * 1024;
