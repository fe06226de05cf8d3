/**
 * Typed errors shared by every function. Each has a stable `name` that Step Functions
 * `Retry`/`Catch` can match (`ErrorEquals`) and an HTTP status the API maps it to.
 * Faults that should simply be retried (throttling, timeouts) stay plain SDK errors.
 */

export type ErrorDetails = Record<string, unknown>;

export abstract class PlatformError extends Error {
  abstract override readonly name: string;
  /** Machine-readable code of the API error body `{ error: { code, message, details } }`. */
  abstract readonly code: string;
  abstract readonly httpStatus: number;

  constructor(
    message: string,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
  }

  toJSON(): { error: { code: string; message: string; details: ErrorDetails } } {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

/** The request is malformed: a field is missing, has the wrong type, or breaks a rule. */
export class ValidationError extends PlatformError {
  override readonly name = 'ValidationError';
  readonly code = 'ValidationFailed';
  readonly httpStatus = 400;
}

/** A model, version or object that the request names does not exist. */
export class NotFoundError extends PlatformError {
  override readonly name = 'NotFoundError';
  readonly code = 'NotFound';
  readonly httpStatus = 404;
}

/** Another change won a race (optimistic lock), or an idempotency key was reused for another request. */
export class ConflictError extends PlatformError {
  override readonly name = 'ConflictError';
  readonly code = 'Conflict';
  readonly httpStatus = 409;
}

/** The requested stage change is not allowed from the version's current stage. */
export class InvalidTransitionError extends PlatformError {
  override readonly name = 'InvalidTransitionError';
  readonly code = 'InvalidTransition';
  readonly httpStatus = 409;
}

/**
 * The dataset cannot be read as the schema describes (empty file, header mismatch, wrong
 * delimiter, bytes that are not UTF-8, corrupt gzip or Parquet). Retrying cannot help: the
 * pipeline catches it by name and fails the run with this message.
 */
export class DatasetFormatError extends PlatformError {
  override readonly name = 'DatasetFormatError';
  readonly code = 'DatasetUnreadable';
  readonly httpStatus = 422;
}

/**
 * A pipeline run's own failure, raised again by the registry's AwaitRedrive answer so the
 * execution stops with the original error name and cause (and a redrive restarts there).
 */
export class PipelineRunError extends Error {
  constructor(
    override readonly name: string,
    message: string,
  ) {
    super(message);
  }
}
