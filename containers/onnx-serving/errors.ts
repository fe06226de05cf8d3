/**
 * The container's own refusals, as PlatformErrors so they answer with the API's error body
 * `{ error: { code, message, details } }` like every other refusal (ValidationError for a bad
 * request comes from the serving core unchanged).
 */
import { PlatformError } from '../../lambdas/shared/errors';

/**
 * The endpoint runs the bootstrap model: it was created before any version existed. A 4xx, as
 * the predict Lambda's 404 for a model with no production version: the endpoint is healthy and
 * the request names something that does not exist yet. A 5xx here would count in the endpoint's
 * Invocation5XXErrors and error-rate alarms, and during the first rollout the bootstrap fleet's
 * refusals would roll the first real version back.
 */
export class NoModelDeployedError extends PlatformError {
  override readonly name = 'NoModelDeployedError';
  readonly code = 'NoModelDeployed';
  readonly httpStatus = 404;
}

/** The model is still loading, or failed to load (the reason is in the container's log). */
export class ModelUnavailableError extends PlatformError {
  override readonly name = 'ModelUnavailableError';
  readonly code = 'ModelUnavailable';
  readonly httpStatus = 503;
}

export class RouteNotFoundError extends PlatformError {
  override readonly name = 'RouteNotFoundError';
  readonly code = 'NotFound';
  readonly httpStatus = 404;
}

export class MethodNotAllowedError extends PlatformError {
  override readonly name = 'MethodNotAllowedError';
  readonly code = 'MethodNotAllowed';
  readonly httpStatus = 405;

  constructor(
    message: string,
    /** The methods the route takes, for the `Allow` header. */
    readonly allowed: readonly string[],
  ) {
    super(message, { allowed });
  }
}

export class PayloadTooLargeError extends PlatformError {
  override readonly name = 'PayloadTooLargeError';
  readonly code = 'PayloadTooLarge';
  readonly httpStatus = 413;
}

export class UnsupportedMediaTypeError extends PlatformError {
  override readonly name = 'UnsupportedMediaTypeError';
  readonly code = 'UnsupportedMediaType';
  readonly httpStatus = 415;
}
