/**
 * Admission: who is next, and how a seat is taken (DESIGN §5.1, §8 "Who is next", "Contention").
 *
 * The line is the index of waiting tokens, in ticket order. A seat is taken by one transaction that
 * changes the token to ADMITTED and adds one to the room's activeCount, on condition that the token
 * is still WAITING and the room is open with activeCount < capacity. The transaction decides; the
 * index (eventually consistent on AWS) only proposes candidates.
 */
import { ContentionError } from './errors.js';
import type { Room, WaitingEntry } from './model.js';
import { RATE_WINDOW_MS } from './positions.js';
import { realSleep, type DomainDeps } from './deps.js';

/** Extra candidates read beyond the free seats, since some may have left since the index saw them. */
export const CANDIDATE_SLACK = 2;
/** Attempts at one admission when transactions conflict. */
export const MAX_ADMIT_ATTEMPTS = 8;
/** Rounds of "read room, read line, admit" in one call. */
const MAX_ROUNDS = 20;
/** Admissions made by one call; further free seats are filled by the next trigger. */
export const MAX_ADMISSIONS_PER_CALL = 100;

/** A waiting token, as far as admission cares. */
export type LineMember = WaitingEntry & { roomId: string };

type AdmitOneResult = { kind: 'admitted'; room: Room } | { kind: 'skipped'; room: Room } | { kind: 'stop' };

function hasFreeSeat(room: Room | undefined): room is Room {
  return room !== undefined && room.state === 'open' && room.activeCount < room.capacity;
}

export class Admissions {
  constructor(private readonly deps: DomainDeps) {}

  /**
   * Fills free seats with the next waiting visitors, in ticket order, until the room is full, the
   * line is empty, or `MAX_ADMISSIONS_PER_CALL` were admitted. Returns the admitted token ids.
   */
  async admitNext(roomId: string): Promise<string[]> {
    const { store } = this.deps;
    const admitted: string[] = [];
    for (let round = 0; round < MAX_ROUNDS && admitted.length < MAX_ADMISSIONS_PER_CALL; round++) {
      let room = await store.getRoom(roomId);
      if (!hasFreeSeat(room)) break;
      const wanted = Math.min(room.capacity - room.activeCount, MAX_ADMISSIONS_PER_CALL - admitted.length);
      const candidates = await store.listWaiting(roomId, wanted + CANDIDATE_SLACK);
      if (candidates.length === 0) break;
      for (const candidate of candidates) {
        const result = await this.admitOne(room, candidate);
        if (result.kind === 'stop') return this.finish(roomId, admitted);
        room = result.room;
        if (result.kind === 'admitted') admitted.push(candidate.tokenId);
        if (!hasFreeSeat(room) || admitted.length >= MAX_ADMISSIONS_PER_CALL) break;
      }
    }
    return this.finish(roomId, admitted);
  }

  /**
   * Admits `token` if it is first in line and a seat is free, then fills any other free seats.
   * Returns whether the token was admitted. This is the path for joins and heartbeats: a visitor
   * with someone ahead does nothing, so that many heartbeats seeing one free seat do not all race
   * for it; the operation that freed the seat admits in order, and each visitor first in line
   * takes a seat left free at its next heartbeat.
   */
  async admitIfFirst(token: LineMember, room: Room | undefined): Promise<boolean> {
    if (!hasFreeSeat(room)) return false;
    const ahead = await this.deps.store.listWaiting(room.roomId, 1, token.ticket);
    if (ahead.length > 0) return false;
    const result = await this.admitOne(room, token);
    if (result.kind !== 'admitted') return false;
    if (hasFreeSeat(result.room)) await this.admitNext(room.roomId);
    else await this.finish(room.roomId, [token.tokenId]);
    return true;
  }

  /** admitNext for a follow-up whose cause already succeeded: a failure is reported, not thrown. */
  async admitNextSafely(roomId: string): Promise<string[]> {
    try {
      return await this.admitNext(roomId);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId, error });
      return [];
    }
  }

  /** admitIfFirst for a follow-up whose cause already succeeded: a failure is reported, not thrown. */
  async admitIfFirstSafely(token: LineMember, room: Room | undefined): Promise<boolean> {
    try {
      return await this.admitIfFirst(token, room);
    } catch (error) {
      this.deps.events?.admissionDeferred?.({ roomId: token.roomId, error });
      return false;
    }
  }

  /**
   * One admission, retried on transaction conflicts with jittered exponential backoff. `room` is
   * the caller's latest view; the returned room is the view after this attempt.
   */
  private async admitOne(room: Room, candidate: WaitingEntry): Promise<AdmitOneResult> {
    const { store, clock } = this.deps;
    const sleep = this.deps.sleep ?? realSleep;
    const random = this.deps.random ?? Math.random;
    let view = room;
    for (let attempt = 0; attempt < MAX_ADMIT_ATTEMPTS; attempt++) {
      const now = clock.now();
      const raiseLastAdmitted = candidate.ticket > view.lastAdmittedTicket;
      const outcome = await store.admitToken({
        roomId: view.roomId,
        tokenId: candidate.tokenId,
        ticket: candidate.ticket,
        now,
        raiseLastAdmitted,
      });
      switch (outcome) {
        case 'admitted':
          this.deps.events?.admitted?.({ roomId: view.roomId, tokenId: candidate.tokenId, ticket: candidate.ticket });
          return {
            kind: 'admitted',
            room: {
              ...view,
              activeCount: view.activeCount + 1,
              admittedTotal: view.admittedTotal + 1,
              lastAdmittedTicket: Math.max(view.lastAdmittedTicket, candidate.ticket),
            },
          };
        case 'token-not-waiting':
          return { kind: 'skipped', room: view };
        case 'room-refused': {
          // Full, not open, or lastAdmittedTicket moved past this ticket: the fresh room tells which.
          const fresh = await store.getRoom(view.roomId);
          if (!hasFreeSeat(fresh)) return { kind: 'stop' };
          view = fresh;
          break;
        }
        case 'conflict':
          await sleep(Math.round(random() * Math.min(1000, 10 * 2 ** attempt)));
          break;
      }
    }
    throw new ContentionError(view.roomId);
  }

  private async finish(roomId: string, admitted: string[]): Promise<string[]> {
    if (admitted.length > 0) {
      await this.deps.store.rollAdmissionRate(roomId, this.deps.clock.now(), RATE_WINDOW_MS / 2);
    }
    return admitted;
  }
}
