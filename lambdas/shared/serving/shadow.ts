/**
 * The shadow phase's serving side: what predict hands the shadow function for a mirrored request
 * (the rows and production's answers, never the candidate's), and how a candidate's answers are
 * compared with production's — the same label for a classifier, a value within a relative
 * tolerance for a regression model. Predict (lambdas/predict), the shadow function
 * (lambdas/shadow-score) and the offline runtime share it.
 */
import { ASYNC_INVOKE_MAX_PAYLOAD_BYTES } from '../../../contracts/limits';
import type { ClassLabel, ModelSchema, Prediction } from '../../../contracts/serving-schema';

/** Production's answer to one row: the label (classification) or the value (regression). */
export type ProductionAnswer = ClassLabel;

/** A request predict answered from production and mirrors to the Staging version in shadow. */
export interface MirrorRequest {
  readonly modelName: string;
  /** The request id (the API Gateway request, or the Lambda invocation): ties metrics and logs to the request. */
  readonly requestId: string;
  readonly productionVersion: number;
  readonly candidateVersion: number;
  /** The rows as the caller sent them. */
  readonly instances: readonly unknown[];
  /** Production's answer to each row, in row order. */
  readonly production: readonly ProductionAnswer[];
}

/** How one mirrored request went, for the Shadow* metrics. */
export interface ShadowObservation {
  readonly version: number;
  readonly failed: boolean;
  /** The candidate's scoring time (encoding and model loading excluded), in milliseconds. */
  readonly latencyMs: number;
  /** Rows the candidate answered and that were compared with production (0 when it failed). */
  readonly comparedRows: number;
  /** Of those, the rows on which it agrees with production. */
  readonly agreeingRows: number;
  readonly error?: Error;
}

/** The answers production gave, as a mirrored request carries them. */
export function answersOf(predictions: readonly Prediction[]): ProductionAnswer[] {
  return predictions.map((prediction) => ('value' in prediction ? prediction.value : prediction.label));
}

/**
 * Whether a candidate's answer agrees with production's: the same label; for a regression model
 * `|candidate − production| ≤ tolerance × |production|` (so a production value of 0 agrees only
 * with 0). Non-finite values never agree.
 */
export function agrees(
  problemType: ModelSchema['problemType'],
  production: ProductionAnswer,
  candidate: Prediction,
  tolerance: number,
): boolean {
  if (problemType !== 'regression') return 'label' in candidate && candidate.label === production;
  if (!('value' in candidate) || typeof production !== 'number') return false;
  if (!Number.isFinite(candidate.value) || !Number.isFinite(production)) return false;
  return Math.abs(candidate.value - production) <= tolerance * Math.abs(production);
}

/** Compares the candidate's answers with production's, row by row. */
export function agreementOf(
  problemType: ModelSchema['problemType'],
  production: readonly ProductionAnswer[],
  candidate: readonly Prediction[],
  tolerance: number,
): { comparedRows: number; agreeingRows: number } {
  if (production.length !== candidate.length) {
    throw new Error(`production answered ${production.length} rows and the candidate ${candidate.length}; they must be the same rows`);
  }
  let agreeingRows = 0;
  for (let row = 0; row < production.length; row++) {
    if (agrees(problemType, production[row]!, candidate[row]!, tolerance)) agreeingRows++;
  }
  return { comparedRows: production.length, agreeingRows };
}

/**
 * A mirrored request as the asynchronous invocation's payload, or undefined when it is over
 * Lambda's 1 MB asynchronous limit (the mirror is dropped and counted; production answered anyway).
 */
export function mirrorPayload(request: MirrorRequest): Uint8Array | undefined {
  const payload = new TextEncoder().encode(JSON.stringify(request));
  return payload.byteLength <= ASYNC_INVOKE_MAX_PAYLOAD_BYTES ? payload : undefined;
}
