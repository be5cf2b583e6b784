/** The emulators' processes, for tests that stop, pause or kill them. */
import { execSync } from 'node:child_process';
import type { LocalRuntime } from '../../local/runtime.js';

/** The process id of DynamoDB Local itself (Java), the only child of its watchdog shell. */
export function dynamoDbJavaPid(runtime: LocalRuntime): string {
  return execSync(`pgrep -P ${runtime.emulators.dynamodbWatchdogPid} java`, { encoding: 'utf8' }).trim();
}
