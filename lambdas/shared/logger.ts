/**
 * The functions' logger: Powertools Logger (structured JSON). With WR_LOG_FORMAT=pretty (the
 * local runtime) it prints one readable line per entry instead. Never log secrets or passes.
 */
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

const HIDDEN_KEYS = new Set(['function_request_id', 'xray_trace_id', 'sampling_rate', 'service', 'timestamp', 'level', 'message', 'cold_start', 'function_arn', 'function_memory_size', 'function_name']);

class PrettyFormatter extends LogFormatter {
  override formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    const time = attributes.timestamp.toISOString().slice(11, 23);
    const extras = Object.entries({ ...additional })
      .filter(([key, value]) => !HIDDEN_KEYS.has(key) && value !== undefined)
      .map(([key, value]) => `${key}=${typeof value === 'object' ? JSON.stringify(value) : String(value)}`)
      .join(' ');
    const line = `${time} ${attributes.logLevel.padEnd(5)} ${attributes.message}${extras ? `  ${extras}` : ''}`;
    return new LogItem({ attributes: { line } });
  }
}

/** Prints only the line built by PrettyFormatter. */
class PrettyLogger extends Logger {
  protected override printLog(logLevel: number, log: LogItem): void {
    const attributes = log.getAttributes() as { line?: string };
    if (typeof attributes.line === 'string') {
      (logLevel >= 16 ? process.stderr : process.stdout).write(`${attributes.line}\n`);
      return;
    }
    super.printLog(logLevel, log);
  }
}

export function createLogger(serviceName: string): Logger {
  if (process.env.WR_LOG_FORMAT === 'pretty') {
    return new PrettyLogger({ serviceName, logFormatter: new PrettyFormatter() });
  }
  return new Logger({ serviceName });
}
