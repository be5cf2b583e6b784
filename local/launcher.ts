/**
 * `npm start` runs the runtime as a grandchild (npm → sh → tsx → node), and a signal sent to npm's
 * own process id stops npm but reaches none of them. The runtime therefore watches the processes
 * that launched it, up to npm, and stops when one of them is gone. Linux (/proc) only; elsewhere,
 * and when not started by npm, it watches nothing.
 */
import { readFileSync } from 'node:fs';

const MAX_DEPTH = 6;

function parentOf(pid: number): number | undefined {
  try {
    // /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 1 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

/** The ancestors of this process up to and including npm's, when npm started it (else none). */
export function launcherChain(env: NodeJS.ProcessEnv = process.env): number[] {
  if (env.npm_lifecycle_event === undefined) return [];
  const chain: number[] = [];
  let pid = process.ppid;
  for (let depth = 0; depth < MAX_DEPTH && pid > 1; depth++) {
    chain.push(pid);
    if (/(^|\/)npm(\s|$)|npm-cli\.js/.test(commandOf(pid))) return chain;
    const parent = parentOf(pid);
    if (parent === undefined) break;
    pid = parent;
  }
  return []; // npm not found above us: watch nothing rather than the wrong processes
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Calls `onGone` once when a process of `chain` exits; returns a function that stops watching. */
export function watchLaunchers(chain: number[], onGone: (pid: number) => void, everyMs = 500): () => void {
  if (chain.length === 0) return () => undefined;
  const timer = setInterval(() => {
    const gone = chain.find((pid) => !alive(pid));
    if (gone !== undefined) {
      clearInterval(timer);
      onGone(gone);
    }
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
