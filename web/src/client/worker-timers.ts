/**
 * Timers that keep time in a background tab. Chrome throttles chained timers of a tab hidden for
 * more than 5 minutes to about one wake-up a minute ("intensive throttling"), which would silence a
 * waiting visitor whose tab sits behind another one: heartbeats every 5 s against a 20 s timeout.
 * Timers of a dedicated Worker are not throttled that way, so the client's timers run in one (a
 * few lines from a Blob URL; the callbacks still run on the page). Where a Worker cannot be made
 * (no Worker, or a Content-Security-Policy without `worker-src blob:`) or fails later, the page's
 * own timers take over, with every pending timer moved across.
 */
import { defaultTimers, type Timers } from './environment.js';

/** The worker: sets and clears timeouts on request, and posts back each id that fired. */
const WORKER_SOURCE = `const t = new Map();
onmessage = (e) => {
  const { op, id, ms } = e.data;
  if (op === 'set') t.set(id, setTimeout(() => { t.delete(id); postMessage(id); }, ms));
  else { clearTimeout(t.get(id)); t.delete(id); }
};`;

interface WorkerLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message' | 'error', listener: (event: { data?: unknown }) => void): void;
  terminate(): void;
}

interface WorkerGlobals {
  Worker?: new (url: string) => WorkerLike;
  Blob?: new (parts: string[], options: { type: string }) => unknown;
  URL?: { createObjectURL(blob: unknown): string; revokeObjectURL(url: string): void };
}

/** Worker-driven timers, or undefined where no Worker can be made (the caller falls back). */
export function workerTimers(globals: WorkerGlobals = globalThis as WorkerGlobals, fallback: Timers = defaultTimers()): Timers | undefined {
  const { Worker, Blob, URL } = globals;
  if (!Worker || !Blob || !URL?.createObjectURL) return undefined;
  let worker: WorkerLike;
  try {
    const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
    worker = new Worker(url);
    URL.revokeObjectURL(url);
  } catch {
    return undefined;
  }
  let nextId = 1;
  /** Pending timers by id: their callback, when due, and the fallback's handle once moved over. */
  const pending = new Map<number, { callback: () => void; dueAt: number; fallbackHandle?: unknown }>();
  let failed = false;
  const fire = (id: number) => {
    const timer = pending.get(id);
    if (!timer) return;
    pending.delete(id);
    timer.callback();
  };
  worker.addEventListener('message', (event) => fire(Number(event.data)));
  worker.addEventListener('error', () => {
    if (failed) return;
    failed = true;
    worker.terminate();
    for (const [id, timer] of pending) timer.fallbackHandle = fallback.setTimeout(() => fire(id), Math.max(0, timer.dueAt - Date.now()));
  });
  return {
    setTimeout(callback, ms) {
      const id = nextId++;
      const timer: { callback: () => void; dueAt: number; fallbackHandle?: unknown } = { callback, dueAt: Date.now() + ms };
      pending.set(id, timer);
      if (failed) timer.fallbackHandle = fallback.setTimeout(() => fire(id), ms);
      else worker.postMessage({ op: 'set', id, ms });
      return id;
    },
    clearTimeout(handle) {
      const id = Number(handle);
      const timer = pending.get(id);
      if (!timer) return;
      pending.delete(id);
      if (timer.fallbackHandle !== undefined) fallback.clearTimeout(timer.fallbackHandle);
      else if (!failed) worker.postMessage({ op: 'clear', id });
    },
  };
}
