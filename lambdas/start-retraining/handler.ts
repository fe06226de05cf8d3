/**
 * The start-retraining function: the target of the EventBridge rule on a drift alarm's
 * "CloudWatch Alarm State Change" to ALARM. Starts the model's training pipeline on the newest
 * dataset prefix unless the pipeline started within the cool-down (see start-retraining.ts). Returns
 * the outcome; faults (SDK errors) throw so EventBridge retries the delivery.
 * Env: STATE_MACHINE_ARN, DATASETS_BUCKET, MODEL_NAME, COOLDOWN_HOURS.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import * as z from 'zod';
import { ValidationError } from '../shared/errors';
import { S3ObjectStore } from '../shared/s3-object-store';
import { StepFunctionsTrainingRuns } from './sfn-training-runs';
import {
  type DatasetPrefixes,
  type NewDataResult,
  type RetrainingSettings,
  startOnNewData,
  startRetraining,
  type TrainingRuns,
} from './start-retraining';

const alarmEventSchema = z.looseObject({
  'detail-type': z.literal('CloudWatch Alarm State Change'),
  detail: z.looseObject({
    alarmName: z.string(),
    state: z.looseObject({ value: z.string(), timestamp: z.string() }),
  }),
});

/** EventBridge's S3 "Object Created" event (the datasets bucket sends its events to EventBridge). */
const objectCreatedSchema = z.looseObject({
  source: z.literal('aws.s3'),
  'detail-type': z.literal('Object Created'),
  detail: z.looseObject({ bucket: z.looseObject({ name: z.string() }), object: z.looseObject({ key: z.string() }) }),
});

export function createRetrainingHandler(runs: TrainingRuns, datasets: DatasetPrefixes, settings: RetrainingSettings, logger: Logger) {
  return async (event: unknown): Promise<NewDataResult> => {
    const created = objectCreatedSchema.safeParse(event);
    if (created.success) {
      // training.trigger on-new-data: a dataset version's completion marker landed.
      const { bucket, object } = created.data.detail;
      // The key as the event carries it: name dataset versions with [A-Za-z0-9._-] only (docs/pipeline.md).
      const result = await startOnNewData(runs, settings, { bucket: bucket.name, key: object.key }, Date.now());
      logger.info(result.started ? 'training on new data started' : 'training on new data not started', { ...result, key: object.key });
      return result;
    }
    const parsed = alarmEventSchema.safeParse(event);
    if (!parsed.success) {
      throw new ValidationError(
        `not a CloudWatch alarm state-change event (nor an S3 Object Created event): ${z.prettifyError(parsed.error)}`,
      );
    }
    const { alarmName, state } = parsed.data.detail;
    const result = await startRetraining(
      runs,
      datasets,
      settings,
      { alarmName, state: state.value, transitionTime: state.timestamp },
      Date.now(),
    );
    logger.info(result.started ? 'retraining started' : 'retraining not started', { ...result, alarmName });
    return result;
  };
}

const logger = new Logger();
let lambdaHandler: ReturnType<typeof createRetrainingHandler> | undefined;

export async function handler(event: unknown): Promise<NewDataResult> {
  if (!lambdaHandler) {
    const { STATE_MACHINE_ARN, DATASETS_BUCKET, MODEL_NAME, COOLDOWN_HOURS } = process.env;
    if (!STATE_MACHINE_ARN || !DATASETS_BUCKET || !MODEL_NAME || !COOLDOWN_HOURS) {
      throw new Error(
        'STATE_MACHINE_ARN, DATASETS_BUCKET, MODEL_NAME and COOLDOWN_HOURS must be set; the DriftMonitor construct sets them',
      );
    }
    const store = new S3ObjectStore(new S3Client({}));
    lambdaHandler = createRetrainingHandler(
      new StepFunctionsTrainingRuns(new SFNClient({}), STATE_MACHINE_ARN),
      { keysUnder: async (prefix) => (await store.list(DATASETS_BUCKET, prefix)).map((object) => object.key) },
      { model: MODEL_NAME, datasetsBucket: DATASETS_BUCKET, cooldownHours: Number(COOLDOWN_HOURS) },
      logger,
    );
  }
  return lambdaHandler(event);
}
