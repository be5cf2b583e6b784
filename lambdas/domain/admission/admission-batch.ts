/**
 * One admission transaction (DESIGN §8 "Admissions at spike rate"): up to MAX_ADMIT_BATCH tokens
 * WAITING → ADMITTED and the room's counts once, on condition that each token is still a live
 * waiting token, the seats are free, the epoch and (under a rate limit) the slots unchanged, and,
 * for an admitter, its lease still held. The admitter (admission.ts) and a visitor admitting
 * itself (self-admission.ts) both go through it.
 */
import { rateAllowance } from './admission-rate.js';
import type { DomainDeps } from '../deps.js';
import { realSleep } from '../deps.js';
import { ContentionError } from '../errors.js';
import { MAX_ADMIT_BATCH, admissionsAllowed, hasFreeSeat } from './free-seats.js';
import type { Room, Token } from '../model.js';
import type { AdmitEntry, CheckQueue } from '../ports.js';
import { admitsUncapped } from '../line/queue-modes.js';

/** Attempts at one batch when transactions conflict or the room moved under it. */
export const MAX_ADMIT_ATTEMPTS = 8;
/** checkBy of a check loop an admission re-armed (the checker recognises it: lambdas/domain/check-loop/check-loop.ts). */
export const REARM_PREFIX = 'rearm:';

/** admitted: who went in, and the room as the batch left it · stop: nothing more to do (the fresh room, when it was read). */
export type BatchResult = { room: Room; admitted: string[] } | { stop: true; room?: Room };

export class AdmissionBatch {
  constructor(
    private readonly deps: DomainDeps,
    /** Where re-armed checks go; without one, tokens that need it are left to an admitter that has one. */
    private readonly checks: CheckQueue | undefined,
  ) {}

  /**
   * One batch, retried on conflicts with jittered backoff: tokens that are no longer live waiting
   * tokens drop out, a room that moved is read again. `room` is the caller's latest view.
   *
   * A token whose next check is due later than an admitted visitor's timeout (it was scheduled while
   * the visitor kept its place far back) has its check loop re-armed in the same transaction, and
   * the new check is sent once it committed; without a check queue (a visitor's own request) such a
   * token is left to the admitter.
   */
  async admit(room: Room, candidates: readonly Token[], liveSince: number, as: { owner?: string }): Promise<BatchResult> {
    const { owner } = as;
    const { store, clock, timings } = this.deps;
    const checks = this.checks;
    const sleep = this.deps.sleep ?? realSleep;
    const random = this.deps.random ?? Math.random;
    const timeoutMs = timings.heartbeatTimeoutSeconds * 1000;
    const now = clock.now();
    const entries: AdmitEntry[] = [];
    for (const token of candidates) {
      const deadline = token.lastSeenAt + timeoutMs;
      if (!(token.checkDueAt > deadline)) entries.push({ tokenId: token.tokenId, ticket: token.ticket, checkSeq: token.checkSeq });
      else if (checks) {
        // Due at the deadline, never after it (a deadline less than a second away: visible at once,
        // DelaySeconds 0): the check may still arrive up to CHECK_DELIVERY_SLACK_MS late, and the seat
        // must be freed at most 21 s after the last heartbeat (DESIGN §5.3).
        const rearm = { checkBy: `${REARM_PREFIX}${owner ?? 'self'}`, checkDueAt: Math.max(now, deadline) };
        entries.push({ tokenId: token.tokenId, ticket: token.ticket, checkSeq: token.checkSeq, rearm });
      }
    }
    let view = room;
    let batch = entries.slice(0, Math.min(MAX_ADMIT_BATCH, admissionsAllowed(view, now)));
    for (let attempt = 0; attempt < MAX_ADMIT_ATTEMPTS && batch.length > 0; attempt++) {
      const highest = Math.max(...batch.map((t) => t.ticket));
      // Under a rate limit the batch takes its slots, on condition nobody took them meanwhile.
      const allowance = view.newVisitorsPerMinute !== undefined && !admitsUncapped(view) ? rateAllowance(view, clock.now()) : undefined;
      if (allowance && allowance.allowed < batch.length) batch = batch.slice(0, allowance.allowed);
      if (batch.length === 0) break;
      const outcome = await store.admitTokens({
        roomId: view.roomId,
        tokens: batch,
        capacity: view.capacity,
        ...(admitsUncapped(view) ? { uncapped: true } : {}),
        ...(allowance ? { rateSlot: { expect: allowance.expectSlotAt, next: allowance.slotAtAfter(batch.length) } } : {}),
        ...(highest > view.lastAdmittedTicket ? { raiseLastAdmittedTo: highest } : {}),
        ...(owner !== undefined ? { owner } : {}),
        liveSince,
        // An emergency stop that commits meanwhile refuses the batch: the fresh room, read below, has the new epoch.
        epoch: view.epoch,
        now: clock.now(),
      });
      switch (outcome.kind) {
        case 'admitted': {
          const rateSlotAt = allowance ? { rateSlotAt: allowance.slotAtAfter(batch.length) } : {};
          this.deps.views.patch(view.roomId, (cached) => ({
            ...cached,
            activeCount: cached.activeCount + batch.length,
            admittedTotal: cached.admittedTotal + batch.length,
            lastAdmittedTicket: Math.max(cached.lastAdmittedTicket, highest),
            ...rateSlotAt,
          }));
          // The re-armed checks first: they keep the new seats from being held silently (a reporter that throws must not cost them).
          await this.sendRearmed(view.roomId, batch);
          for (const token of batch) this.deps.events?.admitted?.({ roomId: view.roomId, tokenId: token.tokenId, ticket: token.ticket });
          return {
            admitted: batch.map((t) => t.tokenId),
            room: {
              ...view,
              activeCount: view.activeCount + batch.length,
              admittedTotal: view.admittedTotal + batch.length,
              lastAdmittedTicket: Math.max(view.lastAdmittedTicket, highest),
              ...rateSlotAt,
              updatedAt: clock.now(),
            },
          };
        }
        case 'tokens-refused': {
          const refused = new Set(outcome.tokenIds);
          batch = batch.filter((t) => !refused.has(t.tokenId));
          break;
        }
        case 'room-refused': {
          // A visitor's own admission does not retry: its view of the room and the line is out of date.
          // (In passthrough there is no line to be out of date about: it tries again on the fresh room.)
          if (owner === undefined && !admitsUncapped(view)) return { stop: true };
          // Full, not open, smaller, lastAdmittedTicket, the epoch or the rate slots moved, or the lease lost: the fresh room tells which.
          const fresh = await store.getRoom(view.roomId);
          if (!hasFreeSeat(fresh, clock.now()) || (owner !== undefined && fresh.admitter !== owner)) return { stop: true, ...(fresh ? { room: fresh } : {}) };
          view = fresh;
          batch = batch.slice(0, admissionsAllowed(fresh, clock.now()));
          break;
        }
        case 'conflict':
          await sleep(Math.round(random() * Math.min(1000, 10 * 2 ** attempt)));
          break;
      }
    }
    if (batch.length === 0) return { room: view, admitted: [] };
    throw new ContentionError(view.roomId);
  }

  /**
   * The checks of re-armed loops, once their admission committed. A failed send is reported, not
   * thrown: the loop's earlier check is still on its way and resends (check-loop.ts).
   */
  private async sendRearmed(roomId: string, batch: readonly AdmitEntry[]): Promise<void> {
    const { clock } = this.deps;
    const checks = this.checks;
    const rearmed = batch.filter((e) => e.rearm);
    if (!checks || rearmed.length === 0) return;
    await Promise.all(
      rearmed.map(async (entry) => {
        // Rounded down, so never later than its due time; 0 (visible at once) when that is less than a second away.
        const delay = Math.max(0, Math.floor((entry.rearm!.checkDueAt - clock.now()) / 1000));
        try {
          // The transaction moved the loop from the sequence read (its condition) to the next one.
          await checks.schedule({ tokenId: entry.tokenId, roomId, seq: entry.checkSeq + 1 }, delay);
        } catch (error) {
          this.deps.events?.admissionDeferred?.({ roomId, error });
        }
      }),
    );
  }
}
