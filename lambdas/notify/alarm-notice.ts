/**
 * An alarm notice as a chat message or a JSON event, from what the alarm topic delivers: a
 * CloudWatch alarm's state change (SNS message = the alarm as JSON) or a plain-text notice (the
 * metrics loop's failure report, the local runtime's queue alarms' JSON, anything published).
 * Pure: no I/O, so every shape is unit tested.
 */

/** What the topic delivered, as SNS gives it to a subscribed function. */
export interface TopicMessage {
  subject?: string | null;
  message: string;
  timestamp?: string;
  topicArn?: string;
}

/** A notice, whatever published it. */
export interface AlarmNotice {
  /** ALARM, OK or INSUFFICIENT_DATA for an alarm; NOTICE for anything else. */
  state: 'ALARM' | 'OK' | 'INSUFFICIENT_DATA' | 'NOTICE';
  /** The alarm's name, or the notice's subject. */
  title: string;
  /** The alarm's description (what it means, what to do), or the notice's text. */
  description: string;
  /** Why the state changed (CloudWatch's reason), when it is an alarm. */
  reason?: string;
  at: string;
  region?: string;
  account?: string;
}

/** The formats a webhook takes (README, "Operating it"). */
export const WEBHOOK_FORMATS = ['slack', 'json'] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

interface CloudWatchAlarmMessage {
  AlarmName?: string;
  AlarmDescription?: string | null;
  NewStateValue?: string;
  NewStateReason?: string;
  StateChangeTime?: string;
  Region?: string;
  AWSAccountId?: string;
}

const STATES = new Set(['ALARM', 'OK', 'INSUFFICIENT_DATA']);

export function alarmNotice(delivered: TopicMessage): AlarmNotice {
  const at = delivered.timestamp ?? new Date().toISOString();
  let alarm: CloudWatchAlarmMessage | undefined;
  try {
    const parsed = JSON.parse(delivered.message) as unknown;
    if (parsed !== null && typeof parsed === 'object' && typeof (parsed as CloudWatchAlarmMessage).AlarmName === 'string') alarm = parsed as CloudWatchAlarmMessage;
  } catch {
    // plain text
  }
  if (!alarm) return { state: 'NOTICE', title: delivered.subject || 'Waiting room notice', description: delivered.message, at };
  const state = STATES.has(alarm.NewStateValue ?? '') ? (alarm.NewStateValue as AlarmNotice['state']) : 'NOTICE';
  return {
    state,
    title: alarm.AlarmName!,
    description: alarm.AlarmDescription ?? '',
    ...(alarm.NewStateReason ? { reason: alarm.NewStateReason } : {}),
    at: alarm.StateChangeTime ?? at,
    ...(alarm.Region ? { region: alarm.Region } : {}),
    ...(alarm.AWSAccountId ? { account: alarm.AWSAccountId } : {}),
  };
}

const EMOJI: Record<AlarmNotice['state'], string> = { ALARM: ':rotating_light:', OK: ':white_check_mark:', INSUFFICIENT_DATA: ':grey_question:', NOTICE: ':information_source:' };

/** Chat webhooks take at most a few thousand characters (Slack truncates text beyond 40,000; Teams and Google Chat less). */
const MAX_TEXT = 3_000;

/**
 * The request body for a webhook: `slack` is `{"text": ...}` in Slack's mrkdwn, which Slack,
 * Mattermost, Rocket.Chat, Google Chat and Microsoft Teams' incoming webhooks all take (Discord
 * with `/slack` at the end of its URL); `json` is the notice itself plus `source`.
 */
export function webhookBody(notice: AlarmNotice, format: WebhookFormat): string {
  if (format === 'json') return JSON.stringify({ source: 'waiting-room', ...notice });
  const lines = [
    `${EMOJI[notice.state]} *${notice.state === 'NOTICE' ? '' : `${notice.state}: `}${notice.title}*`,
    ...(notice.description ? [notice.description] : []),
    ...(notice.reason ? [`_${notice.reason}_`] : []),
    [notice.at, notice.region, notice.account].filter(Boolean).join(' · '),
  ];
  const text = lines.join('\n');
  return JSON.stringify({ text: text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT - 1)}…` : text });
}
