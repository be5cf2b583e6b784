/**
 * The SQS check queue and the checker's event source mapping.
 *
 * Messages become visible at their send time plus DelaySeconds. Lambda's pollers long-poll the
 * queue: a poller with nothing to read waits up to 20 s (an empty ReceiveMessage when that runs
 * out); when a message becomes visible a waiting poller returns with what is visible (up to 10),
 * gathers more for the mapping's batching window (until the batch is full), invokes the checker
 * with the batch, deletes what succeeded (one DeleteMessageBatch) and polls
 * again at once. Failed messages come back after the visibility timeout. Lambda adds pollers while
 * full batches keep coming (up to 300 a minute, 1,250 at most) and lets the extra ones go after an
 * empty wait, down to five. So batch sizes, the checker's concurrency and the delay a check picks
 * up under load all follow from the traffic; so does the idle cost of long polling.
 *
 * Sends are SendMessageBatch requests of up to 10 entries (each under 64 KB: one request each).
 */
import type { CheckMessage, FillMessage } from '../../lambdas/domain/index.js';
import { LATENCY_MS, type QueueMapping } from './assumptions.js';
import { CalendarQueue } from './event-queue.js';
import type { Meter } from './meter.js';
import type { Simulation } from './simulation.js';

export interface QueuedMessage {
  /** The queue's message id: stable across redeliveries (the checker records it as checkBy). */
  id: string;
  /** A token's check, or an admitter's hand-over. */
  message: CheckMessage | FillMessage;
  receiveCount: number;
}

export interface PendingSend {
  message: CheckMessage | FillMessage;
  delaySeconds: number;
}

/** Processes a batch starting at `at`; resolves with the invocation's end and the ids that failed. */
export type BatchConsumer = (batch: QueuedMessage[], at: number) => Promise<{ end: number; failed: ReadonlySet<string> }>;

interface Poller {
  idleSince: number;
}

export class CheckQueueModel {
  private readonly messages = new CalendarQueue<QueuedMessage>();
  private readonly idle: Poller[] = [];
  private pollers = 0;
  private lastScaleUp = Number.NEGATIVE_INFINITY;
  private wakeAt = Number.POSITIVE_INFINITY;
  private nextId = 0;
  /** Most pollers at once. */
  peakPollers = 0;

  constructor(
    private readonly sim: Simulation,
    private readonly meter: Meter,
    private readonly consumer: BatchConsumer,
    private readonly visibilityTimeoutMs: number,
    private readonly mapping: QueueMapping,
  ) {
    for (let i = 0; i < mapping.minPollers; i++) this.addPoller(sim.now);
  }

  /** Messages waiting (delayed or visible). */
  get depth(): number {
    return this.messages.size;
  }

  /** Sends `entries` at `at` in SendMessageBatch requests; returns when the last request answered. */
  send(entries: readonly PendingSend[], at: number): number {
    if (entries.length === 0) return at;
    const requests = Math.ceil(entries.length / 10);
    this.meter.sqs('SendMessageBatch', requests);
    this.meter.tally.add('sqs.messagesSent', entries.length);
    const sentAt = at + LATENCY_MS.sqsSend;
    for (const entry of entries) {
      const delay = Math.min(900, Math.max(0, Math.round(entry.delaySeconds)));
      const visibleAt = sentAt + delay * 1000;
      this.messages.push(visibleAt - this.sim.start, { id: `m${(this.nextId++).toString(36)}`, message: entry.message, receiveCount: 0 });
      this.wake(visibleAt);
    }
    return sentAt;
  }

  /** Counts the empty long polls of pollers still waiting at `at` (end of a run). */
  finish(at: number): void {
    // The pollers beyond the minimum would have let go after their first empty wait.
    const kept = Math.max(0, this.mapping.minPollers - (this.pollers - this.idle.length));
    const newestFirst = [...this.idle].sort((a, b) => b.idleSince - a.idleSince);
    newestFirst.forEach((poller, i) => {
      const empty = Math.floor((at - poller.idleSince) / (this.mapping.waitSeconds * 1000));
      this.meter.sqs('ReceiveMessage', i < kept ? empty : Math.min(1, empty));
      poller.idleSince = at;
    });
  }

  private addPoller(at: number): void {
    this.pollers += 1;
    this.peakPollers = Math.max(this.peakPollers, this.pollers);
    this.ready({ idleSince: at }, at);
  }

  private nextVisible(): number | undefined {
    const t = this.messages.peekTime();
    return t === undefined ? undefined : this.sim.start + t;
  }

  private wake(at: number): void {
    if (this.idle.length === 0 || at >= this.wakeAt) return;
    this.wakeAt = at;
    this.sim.at(at, () => {
      if (this.wakeAt !== at) return; // superseded by an earlier wake-up
      this.wakeAt = Number.POSITIVE_INFINITY;
      this.dispatch(this.sim.now);
    });
  }

  /** Hands visible messages to waiting pollers. */
  private dispatch(at: number): void {
    const waitMs = this.mapping.waitSeconds * 1000;
    while (this.idle.length > 0) {
      const next = this.nextVisible();
      if (next === undefined) return;
      if (next > at) {
        this.wake(next);
        return;
      }
      const poller = this.idle.shift()!;
      const emptyPolls = Math.floor((at - poller.idleSince) / waitMs);
      if (emptyPolls > 0 && this.pollers > this.mapping.minPollers) {
        this.meter.sqs('ReceiveMessage'); // an extra poller lets go after one empty wait
        this.pollers -= 1;
        continue;
      }
      this.meter.sqs('ReceiveMessage', emptyPolls);
      this.receive(poller, at);
    }
  }

  private receive(poller: Poller, at: number): void {
    const batch: QueuedMessage[] = [];
    // With a batching window the mapping keeps gathering (more receives, counted as one here) until
    // the batch is full or the window since the first message has passed.
    const limit = at - this.sim.start + this.mapping.batchingWindowMs;
    let start = at + this.mapping.batchingWindowMs;
    while (batch.length < this.mapping.batchSize) {
      const next = this.messages.pop(limit);
      if (!next) break;
      batch.push(next.item);
      if (batch.length === this.mapping.batchSize) start = Math.max(at, this.sim.start + next.at);
    }
    if (this.mapping.batchingWindowMs === 0) start = at;
    this.meter.sqs('ReceiveMessage');
    const backlog = this.nextVisible();
    if (
      batch.length === this.mapping.batchSize &&
      backlog !== undefined &&
      backlog <= at &&
      this.pollers < this.mapping.maxPollers &&
      at - this.lastScaleUp >= 1000 / this.mapping.scaleUpPerSecond
    ) {
      this.lastScaleUp = at;
      this.addPoller(at);
    }
    start += LATENCY_MS.sqsReceive;
    this.sim.at(start, async () => {
      const { end, failed } = await this.consumer(batch, start);
      if (failed.size < batch.length) this.meter.sqs('DeleteMessageBatch');
      for (const m of batch) {
        if (failed.has(m.id)) this.messages.push(start + this.visibilityTimeoutMs - this.sim.start, { ...m, receiveCount: m.receiveCount + 1 });
      }
      const free = end + LATENCY_MS.sqsDelete;
      this.sim.at(free, () => this.ready(poller, free));
    });
  }

  private ready(poller: Poller, at: number): void {
    const next = this.nextVisible();
    if (next !== undefined && next <= at) {
      this.receive(poller, at);
      return;
    }
    poller.idleSince = at;
    this.idle.push(poller);
    if (next !== undefined) this.wake(next);
  }
}
