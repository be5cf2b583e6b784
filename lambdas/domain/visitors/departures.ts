/**
 * How a visit ends before its visitor goes silent (DESIGN §5.3 "a leave frees it at once"; issue 12,
 * items 4 and 5), all by one path: the token is removed, its seat freed in the same transaction,
 * and the seat offered to the next live visitor in line at once.
 *
 * - A leave: the visitor says so with its secret (DELETE).
 * - A release: the origin says the visitor is done (checkout complete) with the visitor's pass.
 * - A revoked admission: an emergency stop (`revokePasses`) moved the room to a new epoch. Every
 *   admission is made in the room's epoch, on condition the room is still in it (the admission
 *   transaction, so an admission racing the stop either commits before it, in the old epoch, or is
 *   refused and made again in the new one), and every pass carries it (`ep`). A visitor admitted in
 *   an earlier epoch is refused at its next heartbeat or read (410), its token removed by that
 *   heartbeat, and its pass no longer renews. The room cannot list its admitted visitors without a
 *   scan, so nothing else is done at the stop: each refusal comes with the visitor's next
 *   heartbeat (every admittedHeartbeatIntervalSeconds), and a visitor who sends none is evicted
 *   after the heartbeat timeout as always. A verifier that works offline cannot know the epoch: it
 *   relies on the pass's short lifetime (passTtlSeconds).
 */
import type { Admissions } from '../admission/admission.js';
import type { DomainDeps } from '../deps.js';
import type { Room, Token } from '../model.js';
import type { RemovalReason } from '../ports.js';

/** Attempts at a removal whose token changed (admitted meanwhile) or met a conflicting transaction. */
const MAX_REMOVE_ATTEMPTS = 5;

/** Every way a visit ends but silence. */
export type DepartureReason = Exclude<RemovalReason, 'silent'>;

/** removed: by this call · gone: there was nothing (left) to remove · busy: the token kept changing through every attempt. */
export type DepartureOutcome = 'removed' | 'gone' | 'busy';

/** Whether an emergency stop revoked this token's admission: admitted in an epoch before the room's. */
export function admissionRevoked(token: Pick<Token, 'state' | 'admittedEpoch'>, room: Pick<Room, 'epoch'>): boolean {
  return token.state === 'ADMITTED' && (token.admittedEpoch ?? 0) < room.epoch;
}

export class Departures {
  constructor(
    private readonly deps: DomainDeps,
    private readonly admissions: Admissions,
  ) {}

  /**
   * Removes a token as a leave does. `read` reads it afresh before each attempt and says whether it
   * may go (undefined: not, or no longer there); a removal refused because the token changed
   * meanwhile (an admission) or conflicted is tried again with a fresh read.
   */
  async remove(roomId: string, read: () => Promise<Token | undefined>, reason: DepartureReason): Promise<DepartureOutcome> {
    const { store, clock } = this.deps;
    for (let attempt = 0; attempt < MAX_REMOVE_ATTEMPTS; attempt++) {
      const token = await read();
      if (!token) return 'gone';
      const outcome = await store.removeToken({ token, now: clock.now() });
      if (outcome === 'removed') {
        this.deps.events?.removed?.({ roomId, tokenId: token.tokenId, ticket: token.ticket, state: token.state, reason });
        if (token.state === 'ADMITTED') await this.admissions.fillSafely(roomId, { maxRounds: 2, budgetMs: 1_000 });
        return 'removed';
      }
      // 'changed': admitted meanwhile (try again with the new state); 'conflict': try again.
    }
    return 'busy';
  }
}
