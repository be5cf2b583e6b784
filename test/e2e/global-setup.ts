/** Makes sure Debian's Chromium is installed before the browser tests (installing it if missing). */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  if (process.env.WR_CHROMIUM) return;
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/ensure-chromium.sh');
  process.env.WR_CHROMIUM = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 }).trim();
}
