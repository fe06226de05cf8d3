/**
 * The container's own refusals, as PlatformErrors so they answer with the API's error body
 * `{ error: { code, message, details } }` like every other refusal (ValidationError for a bad
 * request comes from the serving core unchanged).
 */
import { PlatformError } from '../../lambdas/shared/errors';

/** The endpoint runs the bootstrap model: it was created before any version existed. */
export class NoModelDeployedError extends PlatformError {
  override readonly name = 'NoModelDeployedError';
  readonly code = 'NoModelDeployed';
  readonly httpStatus = 503;
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
