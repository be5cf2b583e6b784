/**
 * The client's timers in a Worker (web/src/client/worker-timers.ts), with a stand-in Worker: set
 * and clear go to the worker, its messages fire the callbacks, and when it fails the page's own
 * timers take over every pending timer; without a Worker there are none (the client falls back).
 */
import { describe, expect, it, vi } from 'vitest';
import type { Timers } from '../../../web/src/client/environment.js';
import { workerTimers } from '../../../web/src/client/worker-timers.js';

function fakeGlobals() {
  const posted: unknown[] = [];
  const listeners: Record<string, ((event: { data?: unknown }) => void)[]> = { message: [], error: [] };
  let terminated = false;
  class FakeWorker {
    constructor(readonly url: string) {}
    postMessage(message: unknown) {
      posted.push(message);
    }
    addEventListener(type: 'message' | 'error', listener: (event: { data?: unknown }) => void) {
      listeners[type]!.push(listener);
    }
    terminate() {
      terminated = true;
    }
  }
  const globals = {
    Worker: FakeWorker,
    Blob: class {
      constructor(readonly parts: string[]) {}
    },
    URL: { createObjectURL: () => 'blob:timers', revokeObjectURL: () => undefined },
  };
  const emit = (type: 'message' | 'error', data?: unknown) => listeners[type]!.forEach((listener) => listener({ data }));
  return { globals, posted, emit, terminated: () => terminated };
}

const fallback = (): Timers & { set: { ms: number; callback: () => void }[] } => {
  const set: { ms: number; callback: () => void }[] = [];
  return { set, setTimeout: (callback, ms) => set.push({ ms, callback }), clearTimeout: vi.fn() };
};

describe('worker timers', () => {
  it('set and clear timeouts in the worker, and fire each callback once when the worker says so', () => {
    const { globals, posted, emit } = fakeGlobals();
    const timers = workerTimers(globals, fallback())!;
    const fired: string[] = [];
    const a = timers.setTimeout(() => fired.push('a'), 5_000);
    const b = timers.setTimeout(() => fired.push('b'), 1_000);
    timers.clearTimeout(b);
    expect(posted).toEqual([
      { op: 'set', id: a, ms: 5_000 },
      { op: 'set', id: b, ms: 1_000 },
      { op: 'clear', id: b },
    ]);
    emit('message', b); // cleared: nothing
    emit('message', a);
    emit('message', a); // once
    expect(fired).toEqual(['a']);
  });

  it("hand every pending timer to the page's timers when the worker fails, and keep using them", () => {
    const { globals, emit, terminated } = fakeGlobals();
    const page = fallback();
    const timers = workerTimers(globals, page)!;
    const fired: string[] = [];
    timers.setTimeout(() => fired.push('pending'), 60_000);
    emit('error');
    expect(terminated()).toBe(true);
    expect(page.set).toHaveLength(1);
    expect(page.set[0]!.ms).toBeGreaterThan(59_000);
    timers.setTimeout(() => fired.push('later'), 10);
    expect(page.set.map((t) => t.ms).at(-1)).toBe(10);
    for (const t of page.set) t.callback();
    expect(fired).toEqual(['pending', 'later']);
  });

  it('are not made without a Worker, or when making one is refused (a Content-Security-Policy)', () => {
    expect(workerTimers({}, fallback())).toBeUndefined();
    const { globals } = fakeGlobals();
    const refusing = { ...globals, Worker: class { constructor() { throw new Error('CSP: worker-src'); } } };
    expect(workerTimers(refusing as unknown as typeof globals, fallback())).toBeUndefined();
  });
});
