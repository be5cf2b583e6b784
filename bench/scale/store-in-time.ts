/**
 * The scale model's store in simulated time. The model runs an invocation whole when it reaches
 * it: every write it makes is applied at once, though on DynamoDB its calls span tens or hundreds
 * of milliseconds during which other environments read and write. What they would have seen
 * meanwhile is kept here, for ./metered-store.ts:
 *
 * Transaction conflicts: DynamoDB cancels a TransactWriteItems that touches an item another
 * transaction is still writing. The model keeps, per room item, the time span of its last
 * transaction and answers `conflict` to one that overlaps it (the domain retries with backoff).
 * Conflicts between a transaction and a single-item write are not modelled.
 *
 * The admitter lease in time (AdmitterLeases): an invocation runs to completion when the model
 * reaches it, so every lease would be given back before anyone else asked for it, and nobody would
 * ever find it taken. The lease is therefore kept held, in simulated time, from the holder's
 * acquire to its release: an admitter that asks within that span is refused ('busy'), as on
 * DynamoDB. The holder is woken as on DynamoDB: when a write that moves the room's wakeSeq (a seat
 * freed) commits within its span, after the room it admits from was read, its release finds the
 * wake-up, and it admits again at the end of its span (one continuation per span). A seat freed
 * just before the holder's acquire is one the holder saw, and a refused admitter that freed no
 * seat (a checker's safety fill) wakes nobody.
 *
 * The room items in time (RoomHistory), for the same reason: a leave's transaction and the
 * admission that refills its seat a few hundred ms later (on DynamoDB Local) are both applied when
 * the leave is run, so a room read by another environment in between would never see the seat
 * free. Each write of a room item keeps a copy stamped with the time it completes; a read finds
 * the copy of its own time. Conditions are still checked against the latest item, and a writer
 * whose condition failed on the room reads it as it is now (it has seen the newer item).
 */
import type { Room } from '../../lambdas/domain/index.js';

/**
 * The counts' keys, in the model and in the calibration's local run (bench/scale/sdk-counter.ts),
 * for the admitter's leases and the time they were held in all: over them, the mean time a lease
 * is held (calibrate.ts leaseMatchedPace).
 */
export const ADMITTER_LEASES = 'admitter.leases';
export const ADMITTER_HELD_MS = 'admitter.heldMs';

/** A continuation of the admitter: fill `roomId` at `at` in function `fn` (the holder that was woken). */
export type WakeAdmitter = (roomId: string, at: number, fn: string) => void;

/** Per room, the admitter lease's last span in simulated time (see the header). */
export class AdmitterLeases {
  private readonly held = new Map<string, { owner: string; from: number; fn: string }>();
  private readonly spans = new Map<string, { from: number; until: number; fn: string; woken: boolean }>();

  constructor(private readonly wake: WakeAdmitter) {}

  /** Whether an admitter asking at `at` finds the lease taken. */
  refuses(roomId: string, at: number): boolean {
    const span = this.spans.get(roomId);
    return span !== undefined && at >= span.from && at < span.until;
  }

  /** A write that moves the room's wakeSeq committed at `at`: the holder then is woken, once per span. */
  bumped(roomId: string, at: number): void {
    const span = this.spans.get(roomId);
    if (!span || span.woken || at <= span.from || at >= span.until) return;
    span.woken = true;
    this.wake(roomId, span.until, span.fn);
  }

  acquired(roomId: string, owner: string, at: number, fn: string): void {
    this.held.set(roomId, { owner, from: at, fn });
  }

  /** The lease given back at `at`; how long it was held, if `owner` held it. */
  released(roomId: string, owner: string, at: number): number | undefined {
    const held = this.held.get(roomId);
    if (held?.owner !== owner) return undefined;
    this.held.delete(roomId);
    this.spans.set(roomId, { from: held.from, until: at, fn: held.fn, woken: false });
    return at - held.from;
  }
}

/** Copies of each room item as written, by the time each write completed (see the header). */
export class RoomHistory {
  private readonly versions = new Map<string, { at: number; room: Room | undefined }[]>();

  /** Keeps copies this long after the newest (reads are never further behind). */
  constructor(private readonly keepMs = 5_000) {}

  record(roomId: string, at: number, room: Room | undefined): void {
    let list = this.versions.get(roomId);
    if (!list) this.versions.set(roomId, (list = []));
    let i = list.length;
    while (i > 0 && list[i - 1]!.at > at) i -= 1;
    list.splice(i, 0, { at, room });
    const newest = list[list.length - 1]!.at;
    let old = 0;
    while (old < list.length - 1 && list[old]!.at < newest - this.keepMs) old += 1;
    if (old > 0) list.splice(0, old);
  }

  /** The room as a read at `at` finds it; 'current' when no copy is that old (the item as it is). */
  at(roomId: string, at: number): Room | undefined | 'current' {
    const list = this.versions.get(roomId);
    if (!list) return 'current';
    for (let i = list.length - 1; i >= 0; i--) if (list[i]!.at <= at) return list[i]!.room;
    return 'current';
  }
}

/** Per room item: the span of its last transaction. */
export class TransactionSpans {
  private readonly spans = new Map<string, { start: number; end: number }>();
  conflicts = 0;

  constructor(private readonly enabled: boolean) {}

  /** Claims [start, end) on `key`; false (a conflict) when another transaction's span overlaps it. */
  claim(key: string, start: number, end: number): boolean {
    if (!this.enabled) return true;
    const last = this.spans.get(key);
    if (last && start < last.end && end > last.start) {
      this.conflicts += 1;
      return false;
    }
    this.spans.set(key, { start, end });
    return true;
  }
}
