/**
 * The template's queue-depth alarms, played locally (CloudWatch is not emulated): an alarm on a
 * queue's ApproximateNumberOfMessagesVisible (the failure queues and DLQs, lib/constructs/alarms.ts)
 * goes to ALARM when the queue holds more messages than its threshold, and back to OK when it is
 * drained, publishing to its alarm and OK actions (the alarm topic) as CloudWatch would. With the
 * e-mail subscription played by the notices queue, every message set aside comes with a notice.
 * Locally the depth is looked at every few seconds instead of once a minute.
 */
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { LOCAL_ACCOUNT, LOCAL_REGION, resolve, type LocalResource } from './intrinsics.js';
import { referencedIds, resourcesOfType, type CfnTemplate } from './template.js';

export interface QueueDepthAlarm {
  logicalId: string;
  queueLogicalId: string;
  threshold: number;
  comparison: 'GreaterThanThreshold' | 'GreaterThanOrEqualToThreshold';
  description: unknown;
  alarmActions: string[];
  okActions: string[];
}

/** The alarms of the template on an SQS queue's visible messages. */
export function queueDepthAlarmsOf(template: CfnTemplate): QueueDepthAlarm[] {
  return resourcesOfType(template, 'AWS::CloudWatch::Alarm').flatMap(([logicalId, r]) => {
    const p = r.Properties ?? {};
    if (p.Namespace !== 'AWS/SQS' || p.MetricName !== 'ApproximateNumberOfMessagesVisible') return [];
    const dimension = (p.Dimensions as { Name: string; Value: unknown }[] | undefined)?.find((d) => d.Name === 'QueueName');
    const queueLogicalId = referencedIds(dimension?.Value)[0];
    const comparison = p.ComparisonOperator;
    if (!queueLogicalId || (comparison !== 'GreaterThanThreshold' && comparison !== 'GreaterThanOrEqualToThreshold')) return [];
    return [{ logicalId, queueLogicalId, threshold: Number(p.Threshold ?? 0), comparison, description: p.AlarmDescription, alarmActions: referencedIds(p.AlarmActions), okActions: referencedIds(p.OKActions) }];
  });
}

export interface QueueAlarmWatcherOptions {
  alarms: QueueDepthAlarm[];
  resources: ReadonlyMap<string, LocalResource>;
  sns: SNSClient;
  /** Visible (ready) messages of a queue, by its logical id. */
  visible(queueLogicalId: string): number;
  everyMs: number;
  onError(message: string, error: unknown): void;
}

export class QueueAlarmWatcher {
  private readonly states = new Map<string, 'OK' | 'ALARM'>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;

  constructor(private readonly options: QueueAlarmWatcherOptions) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.evaluate().finally(() => (this.running = undefined));
    }, this.options.everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** Looks at every alarm's queue once, and publishes each change of state. */
  async evaluate(): Promise<void> {
    const { alarms, resources, visible } = this.options;
    for (const alarm of alarms) {
      const count = visible(alarm.queueLogicalId);
      const queueName = String(resources.get(alarm.queueLogicalId)?.attributes.QueueName ?? alarm.queueLogicalId);
      const breaching = alarm.comparison === 'GreaterThanThreshold' ? count > alarm.threshold : count >= alarm.threshold;
      const state = breaching ? 'ALARM' : 'OK';
      // Like CloudWatch, the first evaluation leaves INSUFFICIENT_DATA for OK silently.
      const previous = this.states.get(alarm.logicalId) ?? 'OK';
      this.states.set(alarm.logicalId, state);
      if (state === previous) continue;
      const description = String(resolve(alarm.description ?? '', resources));
      const reason = `${count} message${count === 1 ? '' : 's'} visible in ${queueName} (threshold ${alarm.threshold})`;
      for (const topic of state === 'ALARM' ? alarm.alarmActions : alarm.okActions) {
        const topicArn = resources.get(topic)?.ref;
        if (!topicArn) continue;
        try {
          // The message CloudWatch publishes: the alarm's state change as JSON (the notices show it as text).
          const message = { AlarmName: alarm.logicalId, AlarmDescription: description, AWSAccountId: LOCAL_ACCOUNT, NewStateValue: state, NewStateReason: `${reason}.`, OldStateValue: previous, StateChangeTime: new Date().toISOString(), Region: LOCAL_REGION };
          await this.options.sns.send(new PublishCommand({ TopicArn: topicArn, Subject: `${state}: "${alarm.logicalId}" in ${LOCAL_REGION}`, Message: JSON.stringify(message) }));
        } catch (error) {
          this.options.onError(`alarm ${alarm.logicalId}`, error);
        }
      }
    }
  }
}
