/**
 * CanaryAlarmReader on CloudWatch: one DescribeAlarms call naming the canary alarms (the
 * function may describe only those). An alarm that does not exist is a fault, not "OK": a
 * rollout must never pass because its guard is missing.
 */
import { type CloudWatchClient, DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
import type { AlarmState, CanaryAlarmReader } from './deploy-serverless';

export class CloudWatchCanaryAlarms implements CanaryAlarmReader {
  constructor(
    private readonly client: CloudWatchClient,
    private readonly alarmNames: readonly string[],
  ) {}

  async readAlarms(): Promise<readonly AlarmState[]> {
    const response = await this.client.send(new DescribeAlarmsCommand({ AlarmNames: [...this.alarmNames], AlarmTypes: ['MetricAlarm'] }));
    const alarms = response.MetricAlarms ?? [];
    const missing = this.alarmNames.filter((name) => !alarms.some((alarm) => alarm.AlarmName === name));
    if (missing.length > 0) throw new Error(`canary alarm(s) not found: ${missing.join(', ')}`);
    return alarms.map((alarm) => ({
      name: alarm.AlarmName!,
      state: (alarm.StateValue ?? 'INSUFFICIENT_DATA') as AlarmState['state'],
      reason: alarm.StateReason ?? '',
    }));
  }
}
