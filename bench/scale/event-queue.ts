/**
 * The scale model's time-ordered queues: a binary heap, and a calendar queue built on it.
 *
 * Why a calendar queue for events rather than the heap alone: a drop keeps one to two million
 * events pending (every visitor's next poll or signal, every check message in SQS) and pushes
 * and pops some twenty million. Events fall on whole milliseconds, so a ring of one-millisecond
 * buckets makes both operations O(1); only events further away than the ring spans (about 35
 * minutes) wait in the heap. Within a millisecond, events run in the order they were scheduled.
 */

export class BinaryHeap<T> {
  private readonly items: T[] = [];

  constructor(private readonly before: (a: T, b: T) => boolean) {}

  get size(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const items = this.items;
    items.push(item);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.before(items[i]!, items[parent]!)) break;
      [items[i], items[parent]] = [items[parent]!, items[i]!];
      i = parent;
    }
  }

  pop(): T | undefined {
    const items = this.items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let best = i;
        if (left < items.length && this.before(items[left]!, items[best]!)) best = left;
        if (right < items.length && this.before(items[right]!, items[best]!)) best = right;
        if (best === i) break;
        [items[i], items[best]] = [items[best]!, items[i]!];
        i = best;
      }
    }
    return top;
  }
}

interface Far<T> {
  at: number;
  seq: number;
  item: T;
}

/** Items ordered by a whole-millisecond time (relative to the queue's origin), FIFO within a millisecond. */
export class CalendarQueue<T> {
  private readonly span: number;
  private readonly mask: number;
  private readonly slots: (T[] | undefined)[];
  private readonly far = new BinaryHeap<Far<T>>((a, b) => a.at < b.at || (a.at === b.at && a.seq < b.seq));
  /** The millisecond being drained, and the next item's index in its slot. */
  private cursor = 0;
  private head = 0;
  private inRing = 0;
  private seq = 0;

  constructor(spanBits = 21) {
    this.span = 2 ** spanBits;
    this.mask = this.span - 1;
    this.slots = new Array<T[] | undefined>(this.span);
  }

  get size(): number {
    return this.inRing + this.far.size;
  }

  /** Schedules at `at` ms, rounded up (an event never runs early); the past means now. */
  push(at: number, item: T): void {
    const ms = Math.max(Math.ceil(at), this.cursor);
    if (ms - this.cursor < this.span) {
      const index = ms & this.mask;
      const slot = this.slots[index];
      if (slot) slot.push(item);
      else this.slots[index] = [item];
      this.inRing += 1;
    } else {
      this.far.push({ at: ms, seq: this.seq++, item });
    }
  }

  /** The earliest item's time, or undefined when empty. */
  peekTime(): number | undefined {
    return this.seek() ? this.cursor : undefined;
  }

  /** Removes the earliest item if it is due at or before `until`. */
  pop(until = Number.POSITIVE_INFINITY): { at: number; item: T } | undefined {
    if (!this.seek() || this.cursor > until) return undefined;
    const slot = this.slots[this.cursor & this.mask]!;
    const item = slot[this.head]!;
    this.head += 1;
    this.inRing -= 1;
    return { at: this.cursor, item };
  }

  /** Moves the cursor to the earliest item; false when there is none. */
  private seek(): boolean {
    for (;;) {
      const slot = this.slots[this.cursor & this.mask];
      if (slot && this.head < slot.length) return true;
      if (this.size === 0) return false;
      if (slot) this.slots[this.cursor & this.mask] = undefined;
      this.head = 0;
      // Nothing in the ring: jump to the first far item instead of walking there a millisecond at a time.
      this.cursor = this.inRing === 0 ? this.far.peek()!.at : this.cursor + 1;
      while (this.far.size > 0 && this.far.peek()!.at - this.cursor < this.span) {
        const next = this.far.pop()!;
        const index = next.at & this.mask;
        const target = this.slots[index];
        if (target) target.push(next.item);
        else this.slots[index] = [next.item];
        this.inRing += 1;
      }
    }
  }
}
