/**
 * The discrete-event core of the scale model.
 *
 * Time is simulated epoch milliseconds. An event is a task; the loop runs the tasks in time order
 * and awaits each one to completion before the next starts, so a request (a join, a heartbeat,
 * a batch of checks) executes atomically at its event time against the shared state. Its own
 * progress through time is kept by the clock of the Lambda environment it runs in (EnvClock):
 * that clock starts at the event time and moves on by the modelled latency of each store call
 * and by every deps.sleep, which is how a request's duration, its timestamps and its waits are
 * modelled without interleaving requests (an in-memory store has nothing to interleave anyway).
 */
import type { Clock } from '../../lambdas/domain/index.js';
import { CalendarQueue } from './event-queue.js';

export type Task = () => void | Promise<void>;

/** 2026-06-01T00:00:00Z: simulated time starts at a real-looking epoch, so TTLs and dates stay plausible. */
export const SIMULATION_EPOCH = Date.UTC(2026, 5, 1);

export class Simulation {
  readonly start: number;
  private time: number;
  private readonly queue = new CalendarQueue<Task>();

  constructor(start = SIMULATION_EPOCH) {
    this.start = start;
    this.time = start;
  }

  /** The current event's time. */
  get now(): number {
    return this.time;
  }

  /** Milliseconds since the simulation began. */
  get elapsed(): number {
    return this.time - this.start;
  }

  at(time: number, task: Task): void {
    this.queue.push(time - this.start, task);
  }

  after(ms: number, task: Task): void {
    this.at(this.time + ms, task);
  }

  get pending(): number {
    return this.queue.size;
  }

  /** Runs every event due up to `until` (epoch ms), in order, each to completion. */
  async runUntil(until: number): Promise<void> {
    const limit = until - this.start;
    for (;;) {
      const next = this.queue.pop(limit);
      if (!next) break;
      this.time = this.start + next.at;
      const result = next.item();
      if (result) await result;
    }
    this.time = Math.max(this.time, until);
  }
}

/** The clock of one Lambda environment: the current request's own progress through simulated time. */
export class EnvClock implements Clock {
  time = 0;
  now(): number {
    return this.time;
  }
}

/** A small seeded PRNG (mulberry32): every run of the model is the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
