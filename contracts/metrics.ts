/**
 * The platform's own CloudWatch metrics: one namespace, the dimension names and every metric a
 * function publishes (embedded metric format) that an alarm, a dashboard or another function
 * reads. The functions publish these names, the constructs alarm and graph on them; one
 * definition so the two cannot drift apart.
 */

/** Namespace of every embedded-metric-format metric the platform publishes (POWERTOOLS_METRICS_NAMESPACE). */
export const METRICS_NAMESPACE = 'CdkMlops';

/** Dimension names; a metric's `Model` value is the model name, `Feature` a column name, `Version` a registry version. */
export const METRIC_DIMENSIONS = { model: 'Model', feature: 'Feature', version: 'Version' } as const;

/**
 * The model-version canary (serverless): predict emits these for canary-routed requests only,
 * ServerlessInference alarms on them, and the serverless deploy function reads those alarms.
 * Dimension: Model only.
 */
export const CANARY_METRICS = {
  /** 1 per canary-routed request. */
  requests: 'CanaryRequests',
  /** 1 per canary-routed request the candidate could not answer (0 otherwise). */
  failedRequests: 'CanaryFailedRequests',
  /** The candidate's time per request, in milliseconds. */
  latency: 'CanaryLatency',
} as const;

/** Failed canary requests above this share of canary requests roll the candidate back. */
export const CANARY_ERROR_RATE_PERCENT = 5;

/**
 * The shadow phase (serverless): the model's shadow function emits these for each request predict
 * mirrored to the candidate after answering it from production; the deploy function reads their
 * sums and p99 over the shadow window (GetMetricData) and gates the candidate on them. Dimensions:
 * Model and Version (the candidate's), so a late mirror of an earlier candidate never counts for
 * the next one.
 */
export const SHADOW_METRICS = {
  /** 1 per mirrored request. */
  requests: 'ShadowRequests',
  /** 1 per mirrored request the candidate could not answer (0 otherwise). */
  failedRequests: 'ShadowFailedRequests',
  /** The candidate's scoring time per mirrored request, in milliseconds. */
  latency: 'ShadowLatency',
  /** Rows of a mirrored request the candidate answered (compared with production's answers). */
  comparedRows: 'ShadowComparedRows',
  /** Of those, rows on which the candidate agrees with production. */
  agreeingRows: 'ShadowAgreeingRows',
} as const;

/** Failed mirrored requests above this share of mirrored requests reject the candidate in shadow. */
export const SHADOW_ERROR_RATE_PERCENT = CANARY_ERROR_RATE_PERCENT;

/**
 * check-drift, per check. Dimension Model: DatasetDrift (1 drifted, 0 not; nothing without a
 * verdict), DriftedFeatureShare, DriftSampleSize. Dimensions Model, Feature: FeaturePSI,
 * FeatureKS (numeric features), FeatureJS; the prediction as Feature "prediction(<target>)".
 */
export const DRIFT_METRICS = {
  datasetDrift: 'DatasetDrift',
  driftedFeatureShare: 'DriftedFeatureShare',
  sampleSize: 'DriftSampleSize',
  featurePsi: 'FeaturePSI',
  featureKs: 'FeatureKS',
  featureJs: 'FeatureJS',
} as const;

/**
 * evaluate-model, per pipeline run (dimension Model; the run's training job as EMF metadata
 * `trainingJobName`): the gate's outcome, the training job's time and what it cost.
 */
export const EVALUATION_METRICS = {
  /** 1 passed the gate, 0 failed it. */
  passed: 'EvaluationPassed',
  /** 100 × (1 − billable / training seconds) of a managed-spot job. */
  spotSavingsPercent: 'SpotSavingsPercent',
  trainingSeconds: 'TrainingSeconds',
  billableSeconds: 'BillableSeconds',
  /** Billable seconds × instance count × on-demand price / 3600 (USD), when the price is known. */
  trainingCostUsd: 'TrainingCostUsd',
  /** (training − billable seconds) × instance count × on-demand price / 3600 (USD): what spot saved. */
  spotSavingsUsd: 'SpotSavingsUsd',
} as const;

/** predict, per request (Powertools' default `service` dimension). */
export const PREDICT_METRICS = {
  predictedRows: 'PredictedRows',
  /** Rows with an input outside the answering version's training ranges (answered, flagged `outOfRange`). */
  outOfRangeRows: 'OutOfRangeRows',
  capturedRecords: 'CapturedRecords',
  captureDroppedRecords: 'CaptureDroppedRecords',
  rejectedRequests: 'RejectedRequests',
  failedRequests: 'FailedRequests',
  /** Requests predict meant to mirror to the shadow candidate but could not (over the asynchronous payload limit, or Invoke failed). */
  shadowMirrorsDropped: 'ShadowMirrorsDropped',
} as const;
