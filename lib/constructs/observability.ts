/**
 * Where the platform reports: one encrypted SNS topic for every alarm and pipeline failure
 * (with an email subscription from config), and an AWS Budgets budget that warns at 75 %,
 * 90 % and 100 % of the monthly limit.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as budgets from 'aws-cdk-lib/aws-budgets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { createPlatformKey } from './platform-key';

/** Percentages of the monthly budget at which the topic is told. */
export const BUDGET_ALERT_THRESHOLDS = [75, 90, 100] as const;

export interface ObservabilityProps {
  /** Names the budget (`<projectName>-<environment>`). */
  readonly platformName: string;
  /**
   * Address subscribed to the alert topic (it must confirm the subscription).
   * @default - no subscription; add one to `alertTopic`
   */
  readonly alertEmail?: string;
  /** Monthly cost budget in US dollars. */
  readonly monthlyBudgetUsd: number;
  /**
   * What happens to the topic's key when the stack is deleted.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

export class Observability extends Construct {
  /** Every alarm, failed pipeline and budget warning of the platform. */
  readonly alertTopic: sns.Topic;

  constructor(scope: Construct, id: string, props: ObservabilityProps) {
    super(scope, id);
    if (!(props.monthlyBudgetUsd > 0)) {
      throw new Error(`monthlyBudgetUsd must be a positive amount of US dollars, got ${props.monthlyBudgetUsd}`);
    }
    const key = createPlatformKey(this, 'AlertsKey', {
      description: 'platform alert topic',
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    // CloudWatch alarms and AWS Budgets publish as services; they need the key too.
    for (const service of ['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']) {
      key.grant(new iam.ServicePrincipal(service), 'kms:GenerateDataKey', 'kms:Decrypt');
    }
    this.alertTopic = new sns.Topic(this, 'AlertTopic', {
      displayName: `cdk-mlops ${props.platformName} alerts`,
      masterKey: key,
      enforceSSL: true,
    });
    this.alertTopic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'AllowBudgetsToPublish',
        principals: [new iam.ServicePrincipal('budgets.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.alertTopic.topicArn],
      }),
    );
    if (props.alertEmail) this.alertTopic.addSubscription(new subscriptions.EmailSubscription(props.alertEmail));

    // Account-wide: a tag-filtered budget stays silent until the Project tag is activated for cost allocation.
    new budgets.CfnBudget(this, 'MonthlyBudget', {
      budget: {
        budgetName: `${props.platformName}-monthly`,
        budgetType: 'COST',
        timeUnit: 'MONTHLY',
        budgetLimit: { amount: props.monthlyBudgetUsd, unit: 'USD' },
      },
      notificationsWithSubscribers: BUDGET_ALERT_THRESHOLDS.map((threshold) => ({
        notification: {
          notificationType: 'ACTUAL',
          comparisonOperator: 'GREATER_THAN',
          threshold,
          thresholdType: 'PERCENTAGE',
        },
        subscribers: [{ subscriptionType: 'SNS', address: this.alertTopic.topicArn }],
      })),
    });
  }
}
