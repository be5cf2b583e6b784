/**
 * The scale model's store in simulated time (bench/scale/store-in-time.ts): an invocation is run
 * whole when the model reaches it, so the admitter lease and the room item keep their history in
 * time, as other environments would have seen them meanwhile.
 */
import { describe, expect, it } from 'vitest';
import type { Room } from '../../../lambdas/domain/index.js';
import { AdmitterLeases, RoomHistory } from '../../../bench/scale/store-in-time.js';

const room = (activeCount: number) => ({ roomId: 'r', activeCount }) as Room;

describe('the admitter lease in time', () => {
  it('refuses an admitter that asks within the holder’s span', () => {
    const leases = new AdmitterLeases(() => undefined);
    leases.acquired('r', 'holder', 1_000, 'leave');
    leases.released('r', 'holder', 1_300);
    expect(leases.refuses('r', 999)).toBe(false);
    expect(leases.refuses('r', 1_100)).toBe(true);
    expect(leases.refuses('r', 1_200)).toBe(true);
    expect(leases.refuses('r', 1_300)).toBe(false);
    expect(leases.refuses('other', 1_100)).toBe(false);
  });

  it('wakes the holder once, at its span’s end, for a seat freed within the span, and not for one it saw or for a refusal alone', () => {
    const woken: [string, number, string][] = [];
    const leases = new AdmitterLeases((roomId, at, fn) => woken.push([roomId, at, fn]));
    leases.acquired('r', 'holder', 1_000, 'leave');
    leases.released('r', 'holder', 1_300);
    leases.refuses('r', 1_050); // a checker's safety fill, refused: it freed nothing
    leases.bumped('r', 990); // freed before the holder read the room: it saw the seat
    leases.bumped('r', 1_300); // freed once the lease was given back
    expect(woken).toEqual([]);
    leases.bumped('r', 1_100);
    leases.bumped('r', 1_200);
    expect(woken).toEqual([['r', 1_300, 'leave']]);
  });

  it('keeps no span for a release by someone who does not hold the lease', () => {
    const leases = new AdmitterLeases(() => undefined);
    leases.acquired('r', 'holder', 1_000, 'leave');
    leases.released('r', 'someone else', 1_300);
    expect(leases.refuses('r', 1_100)).toBe(false);
  });
});

describe('the room item in time', () => {
  it('gives a read the copy of its own time, even when a later write was applied first', () => {
    const history = new RoomHistory();
    history.record('r', 1_000, room(20)); // a leave's seat refilled at 1,000 ...
    history.record('r', 700, room(19)); // ... after the leave's own write at 700, applied in the same run
    expect(history.at('r', 500)).toBe('current');
    expect(history.at('r', 800)).toEqual(room(19));
    expect(history.at('r', 1_000)).toEqual(room(20));
    expect(history.at('other', 800)).toBe('current');
  });

  it('forgets copies older than its horizon behind the newest', () => {
    const history = new RoomHistory(1_000);
    history.record('r', 0, room(1));
    history.record('r', 500, room(2));
    history.record('r', 2_000, room(3));
    expect(history.at('r', 600)).toBe('current');
    expect(history.at('r', 2_500)).toEqual(room(3));
  });
});
