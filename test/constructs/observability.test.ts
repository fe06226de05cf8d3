import { describe, expect, it } from 'vitest';
import { Observability } from '../../lib/constructs/observability';
import { Match, Template, testStack } from '../support/cdk';

function synth(alertEmail?: string) {
  const stack = testStack();
  new Observability(stack, 'Observability', { platformName: 'mlops-dev', alertEmail, monthlyBudgetUsd: 750 });
  return Template.fromStack(stack);
}

describe('Observability', () => {
  it('encrypts the alert topic with a rotated key and refuses plain-HTTP publishing', () => {
    const template = synth();
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Sid: 'AllowBudgetsToPublish', Principal: { Service: 'budgets.amazonaws.com' }, Action: 'sns:Publish' }),
        ]),
      },
    });
  });

  it('subscribes the configured email address, and none when there is none', () => {
    synth('oncall@example.com').hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'oncall@example.com' });
    synth().resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('budgets the monthly limit and alerts the topic at 75, 90 and 100 percent', () => {
    const template = synth();
    const budget = Object.values(template.findResources('AWS::Budgets::Budget'))[0] as any;
    expect(budget.Properties.Budget).toEqual({
      BudgetName: 'mlops-dev-monthly',
      BudgetType: 'COST',
      TimeUnit: 'MONTHLY',
      BudgetLimit: { Amount: 750, Unit: 'USD' },
    });
    const notifications = budget.Properties.NotificationsWithSubscribers;
    expect(notifications.map((n: any) => n.Notification.Threshold)).toEqual([75, 90, 100]);
    for (const notification of notifications) {
      expect(notification.Notification).toMatchObject({
        NotificationType: 'ACTUAL',
        ComparisonOperator: 'GREATER_THAN',
        ThresholdType: 'PERCENTAGE',
      });
      expect(notification.Subscribers).toEqual([
        { SubscriptionType: 'SNS', Address: { Ref: expect.stringMatching(/^ObservabilityAlertTopic/) } },
      ]);
    }
  });

  it('lets CloudWatch and Budgets use the topic key', () => {
    const template = synth();
    const key = Object.values(template.findResources('AWS::KMS::Key'))[0] as any;
    const services = key.Properties.KeyPolicy.Statement.flatMap((statement: any) => statement.Principal?.Service ?? []);
    expect(services).toEqual(expect.arrayContaining(['cloudwatch.amazonaws.com', 'budgets.amazonaws.com']));
  });

  it('refuses a budget that is not a positive amount', () => {
    expect(() => new Observability(testStack(), 'O', { platformName: 'x', monthlyBudgetUsd: 0 })).toThrow(
      'monthlyBudgetUsd must be a positive amount of US dollars, got 0',
    );
  });
});
