/**
 * The admin alarm topic (DESIGN §2.5): an SNS topic e-mailed to the administrator, which every
 * alarm of the waiting room notifies on ALARM and on OK, and where the metrics loop reports its
 * failures. `alarm()` creates such an alarm in any construct and keeps the list of them
 * (`alarms`, shown by the dashboard's alarm status widget).
 *
 * No server-side encryption. A customer-managed KMS key costs $1 a month, and CloudWatch cannot
 * publish to a topic under the AWS managed aws/sns key, so encryption would be the largest idle
 * line item; alarm notifications carry alarm names, states and descriptions, never visitor data
 * or secrets. Publishing still requires TLS (enforceSSL), and the topic policy lets only this
 * account's CloudWatch alarms and the principals of this account publish.
 */
import { Aws, Validations } from 'aws-cdk-lib';
import { Alarm, type AlarmProps } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';

export interface AlarmTopicProps {
  /** Where notifications are e-mailed (an SNS e-mail subscription; confirm the first mail). */
  readonly adminEmail: string;
}

export class AlarmTopic extends Topic {
  /** Every alarm created with alarm(), in creation order. */
  readonly alarms: Alarm[] = [];

  private readonly action: SnsAction;

  constructor(scope: Construct, id: string, props: AlarmTopicProps) {
    super(scope, id, { displayName: 'Waiting room alarms', enforceSSL: true });
    // The topic policy replaces SNS's default one, so CloudWatch alarms need an explicit allow.
    this.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
    this.addSubscription(new EmailSubscription(props.adminEmail));
    this.action = new SnsAction(this);
    Validations.of(this).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SNS2',
      reason:
        'Alarm notifications carry alarm names, states and descriptions, no visitor data or secrets; a customer-managed KMS key would cost $1 a month (CloudWatch cannot publish under aws/sns), the largest idle item. Publishing requires TLS.',
    });
  }

  /** An alarm in `scope` that notifies this topic when it fires and when it recovers. */
  alarm(scope: Construct, id: string, props: AlarmProps): Alarm {
    const alarm = new Alarm(scope, id, props);
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
