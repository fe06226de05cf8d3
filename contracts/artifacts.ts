/**
 * Key prefixes inside the artifacts bucket; the constructs scope grants and lifecycle rules
 * with them and the Lambdas build keys from them. Free of CDK imports so Lambda bundles can use it.
 */
export const ARTIFACT_PREFIXES = {
  models: 'models/',
  checkpoints: 'checkpoints/',
  profiles: 'profiles/',
  reports: 'reports/',
  quarantine: 'quarantine/',
  /** A run's training, validation and holdout rows and the training job's model document: splits/<model>/<run>/<part>/. */
  splits: 'splits/',
} as const;
