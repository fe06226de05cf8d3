/**
 * The model-version canary's metrics: predict emits them (embedded metric format) for
 * canary-routed requests only, ServerlessInference alarms on them, and the serverless deploy
 * function reads those alarms. One definition so the three cannot drift apart.
 */
export const CANARY_METRICS = {
  namespace: 'CdkMlops',
  /** The only dimension; its value is the model name. */
  dimension: 'Model',
  /** 1 per canary-routed request. */
  requests: 'CanaryRequests',
  /** 1 per canary-routed request the candidate could not answer (0 otherwise). */
  failedRequests: 'CanaryFailedRequests',
  /** The candidate's time per request, in milliseconds. */
  latency: 'CanaryLatency',
} as const;
