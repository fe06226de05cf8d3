/**
 * The alarms that roll an endpoint deployment back, on the variant's SageMaker metrics (both the
 * old and the new fleet feed them during a blue/green deployment): any 5xx answer, p99 model
 * latency over the budget, and the server-side error rate. Their consumer is the endpoint's
 * AutoRollbackConfiguration, which SageMaker reads while a deployment bakes.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/** Server-side invocation error share (percent, per minute) that rolls a deployment back. */
export const ENDPOINT_ERROR_RATE_ALARM_PERCENT = 5;
/**
 * The error rate's metric math: InvocationModelErrors counts every invocation the container did
 * not answer with a 2xx (4xx and 5xx answers, timeouts, broken connections); the container's 4xx
 * answers (Invocation4XXErrors) are the caller's mistakes — a row that fails validation, a body
 * too large, the bootstrap model's NoModelDeployed — and say nothing of the candidate version, so
 * they are taken out. Invocation5XXErrors is part of InvocationModelErrors, so it is not added.
 */
export const ENDPOINT_ERROR_RATE_EXPRESSION = 'IF(invocations > 0, 100 * (modelErrors - FILL(clientErrors, 0)) / invocations, 0)';
/** SageMaker reports ModelLatency in microseconds. */
const MICROSECONDS_PER_MILLISECOND = 1000;

export interface RollbackAlarmsProps {
  readonly modelName: string;
  readonly endpointName: string;
  readonly variantName: string;
  /** p99 model latency above which a deployment rolls back. */
  readonly latencyBudgetMs: number;
}

export interface RollbackAlarms {
  readonly invocation5xx: cloudwatch.Alarm;
  readonly modelLatency: cloudwatch.Alarm;
  readonly errorRate: cloudwatch.Alarm;
}

/** Creates the three alarms in `scope` (their IDs are stable: they name the alarm resources). */
export function createRollbackAlarms(scope: Construct, props: RollbackAlarmsProps): RollbackAlarms {
  const metric = (metricName: string, statistic: string) =>
    new cloudwatch.Metric({
      namespace: 'AWS/SageMaker',
      metricName,
      statistic,
      dimensionsMap: { EndpointName: props.endpointName, VariantName: props.variantName },
      period: Duration.minutes(1),
    });
  const invocation5xx = new cloudwatch.Alarm(scope, 'Invocation5xxAlarm', {
    alarmDescription: `${props.modelName} endpoint: server errors (rolls a deployment back)`,
    metric: metric('Invocation5XXErrors', cloudwatch.Stats.SUM),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const modelLatency = new cloudwatch.Alarm(scope, 'ModelLatencyAlarm', {
    alarmDescription: `${props.modelName} endpoint: p99 model latency above ${props.latencyBudgetMs} ms (rolls a deployment back)`,
    metric: metric('ModelLatency', cloudwatch.Stats.p(99)),
    threshold: props.latencyBudgetMs * MICROSECONDS_PER_MILLISECOND,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 2,
    datapointsToAlarm: 2,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  const errorRate = new cloudwatch.Alarm(scope, 'ErrorRateAlarm', {
    alarmDescription: `${props.modelName} endpoint: server-side invocation errors above ${ENDPOINT_ERROR_RATE_ALARM_PERCENT}%, client errors excluded (rolls a deployment back)`,
    metric: new cloudwatch.MathExpression({
      expression: ENDPOINT_ERROR_RATE_EXPRESSION,
      usingMetrics: {
        modelErrors: metric('InvocationModelErrors', cloudwatch.Stats.SUM),
        clientErrors: metric('Invocation4XXErrors', cloudwatch.Stats.SUM),
        invocations: metric('Invocations', cloudwatch.Stats.SUM),
      },
      period: Duration.minutes(1),
      label: 'Server-side invocation error rate (%)',
    }),
    threshold: ENDPOINT_ERROR_RATE_ALARM_PERCENT,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
  for (const alarm of [invocation5xx, modelLatency, errorRate]) {
    Validations.of(alarm).acknowledge({
      id: 'cdk-validator-cfnguard::cloudwatch_alarm_action_check',
      reason:
        "Its consumer is the endpoint's AutoRollbackConfiguration, which SageMaker polls during a deployment; it needs no alarm action.",
    });
  }
  return { invocation5xx, modelLatency, errorRate };
}
