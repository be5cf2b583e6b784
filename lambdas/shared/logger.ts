/**
 * The functions' logger: Powertools Logger (structured JSON). With WR_LOG_FORMAT=pretty (the
 * local runtime) it prints one readable line per entry instead. Never log secrets or passes.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import type { Context } from 'aws-lambda';

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
  protected override createLogger(options?: ConstructorParameters<typeof Logger>[0]): Logger {
    return new PrettyLogger(options);
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    const attributes = log.getAttributes() as { line?: string };
    if (typeof attributes.line === 'string') {
      (logLevel >= 16 ? process.stderr : process.stdout).write(`${attributes.line}\n`);
      return;
    }
    super.printLog(logLevel, log);
  }
}

/** Per invocation: the child logger that carries its context and keys, by the logger it scopes. */
const scopes = new AsyncLocalStorage<Map<Logger, Logger>>();
/** Loggers that have seen an invocation: their environment is warm. */
const warm = new WeakSet<Logger>();

/**
 * A logger whose context and keys belong to the invocation in progress (see withInvocation):
 * Lambda runs one invocation per environment at a time, but the local runtime runs many in one
 * process, and a shared logger's keys would bleed from one request into another's lines.
 */
function scoped(base: Logger): Logger {
  const proxy: Logger = new Proxy(base, {
    get(target, property) {
      const current = scopes.getStore()?.get(proxy) ?? target;
      const value = Reflect.get(current, property, current) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });
  return proxy;
}

export function createLogger(serviceName: string): Logger {
  if (process.env.WR_LOG_FORMAT === 'pretty') {
    return scoped(new PrettyLogger({ serviceName, logFormatter: new PrettyFormatter() }));
  }
  return scoped(new Logger({ serviceName }));
}

/**
 * Runs one invocation with `logger` (from createLogger) scoped to it: every line it logs, here or
 * in code it awaits, names this invocation's Lambda request, function and cold-start flag, and
 * the keys given, and none of another invocation's.
 */
export function withInvocation<T>(logger: Logger, context: Context | undefined, keys: LogAttributes, run: () => Promise<T>): Promise<T> {
  // The cold-start flag belongs to the environment (the long-lived logger), not to the child,
  // whose first addContext always says cold: a second one says warm.
  const coldStart = !warm.has(logger);
  warm.add(logger);
  // Through the proxy: a child of the invocation's logger when one is running already.
  const child = logger.createChild();
  if (context) {
    child.addContext(context);
    if (!coldStart) child.addContext(context);
  }
  child.appendKeys(keys);
  const map = new Map(scopes.getStore() ?? []);
  map.set(logger, child);
  return scopes.run(map, run);
}
