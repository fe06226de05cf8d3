/**
 * The predict function on Lambda: the clients (DynamoDB for the registry, S3 for artifacts and
 * capture) and the environment the ServerlessInference construct sets, around predict.ts. The
 * model and its InferenceSession are built once per container, during INIT when possible. No
 * Powertools Tracer here: its X-Ray SDK adds about 25 ms to every cold start of a
 * latency-critical function, and Lambda's active tracing already records each invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { modelSchemaSchema, type PredictResponse } from '../../contracts/serving-schema';
import { DynamoDbRegistryStore } from '../shared/registry/dynamodb-registry-store';
import { S3ObjectStore } from '../shared/s3-object-store';
import type { Predictor } from '../shared/serving/predictor';
import { mirrorPayload } from '../shared/serving/shadow';
import { type ApiResponse, canaryMetricsFor, createPredictHandler, predictorFromEnvironment, type ShadowMirror } from './predict';

const logger = new Logger();
const metrics = new Metrics();

let lambdaHandler: ReturnType<typeof createPredictHandler> | undefined;
let predictor: Predictor | undefined;

function fromEnvironment(): { predictor: Predictor; handle: ReturnType<typeof createPredictHandler> } {
  if (!predictor || !lambdaHandler) {
    const documents = DynamoDBDocumentClient.from(new DynamoDBClient({}));
    const registry = new DynamoDbRegistryStore(documents, process.env.TABLE_NAME ?? '');
    const objects = new S3ObjectStore(new S3Client({}));
    // An unreadable MODEL_SCHEMA is reported by predictorFromEnvironment, with the reason.
    const modelName = modelSchemaSchema.safeParse(safeJson(process.env.MODEL_SCHEMA)).data?.modelName ?? 'unknown';
    const canaryMetrics = canaryMetricsFor(modelName);
    predictor = predictorFromEnvironment(process.env, registry, objects, logger, canaryMetrics);
    const shadowFunction = process.env.SHADOW_FUNCTION_NAME;
    const mirror = shadowFunction ? lambdaShadowMirror(new LambdaClient({}), shadowFunction) : undefined;
    lambdaHandler = createPredictHandler({ predictor, logger, metrics, canaryMetrics, ...(mirror ? { mirror } : {}) });
  }
  return { predictor, handle: lambdaHandler };
}

/**
 * Mirrors a request to the model's shadow function with an asynchronous invocation: Lambda queues
 * the event and answers 202 at once, so the caller waits for the hand-over, not for the candidate.
 */
function lambdaShadowMirror(client: LambdaClient, functionName: string): ShadowMirror {
  return async (request) => {
    const payload = mirrorPayload(request);
    if (!payload) return false;
    await client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: payload }));
    return true;
  };
}

function safeJson(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? 'null');
  } catch {
    return undefined;
  }
}

export async function handler(event: unknown, context: Context): Promise<PredictResponse | ApiResponse> {
  logger.addContext(context);
  return fromEnvironment().handle(event, context);
}

// Lambda INIT: load the model before the first request, so provisioned concurrency and the
// first caller find a warm session. A failure here is logged; the first request retries it.
if (process.env.AWS_LAMBDA_FUNCTION_NAME && process.env.MODEL_SCHEMA) {
  await fromEnvironment()
    .predictor.warm()
    .catch((error: unknown) => logger.error('model load during INIT failed', error as Error));
}
