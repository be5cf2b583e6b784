/**
 * What a visitor does: join, read, heartbeat, leave (DESIGN §2 steps 1-2, §3).
 */
import { Admissions } from './admission.js';
import { hashSecret, secretMatches } from './credentials.js';
import type { DomainDeps } from './deps.js';
import { InvalidCredentialError, RoomClosedError, RoomNotFoundError, TokenNotFoundError } from './errors.js';
import type { Room, Token, TokenView } from './model.js';
import { estimateWaitSeconds, positionOf } from './positions.js';

/** A heartbeat within this long of the last recorded one is answered without a write. */
export const MIN_TOUCH_INTERVAL_MS = 1_000;
const MAX_LEAVE_ATTEMPTS = 5;

export interface JoinResult {
  view: TokenView;
  secret: string;
}

export class Visitors {
  private readonly admissions: Admissions;

  constructor(private readonly deps: DomainDeps) {
    this.admissions = new Admissions(deps);
  }

  /** Takes a ticket and joins the line; admitted at once when a seat is free and nobody is ahead. */
  async join(roomId: string): Promise<JoinResult> {
    const { store, clock, ids, timings } = this.deps;
    const now = clock.now();
    const issued = await store.issueTicket(roomId, now);
    if (issued.kind === 'room-not-found') throw new RoomNotFoundError(roomId);
    if (issued.kind === 'room-closed') throw new RoomClosedError(roomId);
    const secret = ids.secret();
    const token: Token = {
      tokenId: ids.tokenId(),
      roomId,
      ticket: issued.room.nextTicket,
      secretHash: hashSecret(secret),
      state: 'WAITING',
      issuedAt: now,
      lastSeenAt: now,
      checkSeq: 0,
      expiresAtSeconds: Math.ceil(now / 1000) + timings.tokenRetentionSeconds,
    };
    await store.putToken(token);
    // Read the room again: a seat freed between taking the ticket and writing the token was
    // offered to a line that did not hold this token yet.
    const room = await store.getRoom(roomId);
    const admitted = await this.admissions.admitIfFirstSafely(token, room);
    const current: Token = admitted ? { ...token, state: 'ADMITTED', admittedAt: clock.now() } : token;
    return { view: await this.view(current, room ?? issued.room), secret };
  }

  /** The token's state and position, without side effects. */
  async read(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    const token = await this.authenticate(roomId, tokenId, secret);
    const room = await this.room(roomId);
    return this.view(token, room);
  }

  /**
   * "I am still here": refreshes lastSeenAt; a waiting visitor first in line takes a free seat.
   * One conditional write both authenticates and records the heartbeat (the store compares the
   * secret's SHA-256, never the secret); a refusal is explained with a constant-time comparison.
   */
  async heartbeat(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    const { store, clock, timings } = this.deps;
    const now = clock.now();
    const touched = await store.touchToken({
      tokenId,
      roomId,
      secretHash: hashSecret(secret),
      now,
      expiresAtSeconds: Math.ceil(now / 1000) + timings.tokenRetentionSeconds,
      minIntervalMs: MIN_TOUCH_INTERVAL_MS,
    });
    if (touched.kind === 'not-found') throw new TokenNotFoundError(tokenId);
    if (touched.kind === 'mismatch') {
      if (!secretMatches(secret, touched.token.secretHash)) throw new InvalidCredentialError();
      throw new TokenNotFoundError(tokenId); // the right secret, but the token lives in another room
    }
    let token = touched.token;
    const room = await this.room(roomId);
    if (token.state === 'WAITING' && (await this.admissions.admitIfFirstSafely(token, room))) {
      // An admitted visitor's view does not depend on the room: no need to read it again.
      token = { ...token, state: 'ADMITTED', admittedAt: clock.now() };
    }
    return this.view(token, room);
  }

  /** "I leave": removes the token; a seat it held goes to the next in line at once. */
  async leave(roomId: string, tokenId: string, secret: string): Promise<void> {
    const { store, clock } = this.deps;
    for (let attempt = 0; attempt < MAX_LEAVE_ATTEMPTS; attempt++) {
      const token = await this.authenticate(roomId, tokenId, secret);
      const outcome = await store.removeToken({ token, now: clock.now() });
      if (outcome === 'removed') {
        this.deps.events?.removed?.({ roomId, tokenId, ticket: token.ticket, state: token.state, reason: 'left' });
        if (token.state === 'ADMITTED') await this.admissions.admitNextSafely(roomId);
        return;
      }
      // 'changed': admitted meanwhile (retry with the new state); 'conflict': retry.
    }
    throw new TokenNotFoundError(tokenId);
  }

  private async authenticate(roomId: string, tokenId: string, secret: string): Promise<Token> {
    const token = await this.deps.store.getToken(tokenId);
    if (!token) throw new TokenNotFoundError(tokenId);
    // Check the secret before the room, so a wrong guess learns nothing about where a token lives.
    if (!secretMatches(secret, token.secretHash)) throw new InvalidCredentialError();
    if (token.roomId !== roomId) throw new TokenNotFoundError(tokenId);
    return token;
  }

  private async room(roomId: string): Promise<Room> {
    const room = await this.deps.store.getRoom(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    return room;
  }

  private async view(token: Token, room: Room): Promise<TokenView> {
    const { clock, timings, passes } = this.deps;
    const now = clock.now();
    const admitted = token.state === 'ADMITTED';
    const position = admitted ? 0 : positionOf(token.ticket, room);
    const view: TokenView = {
      roomId: token.roomId,
      tokenId: token.tokenId,
      ticket: token.ticket,
      state: admitted ? 'admitted' : 'waiting',
      position,
      estimatedWaitSeconds: estimateWaitSeconds(position, room, now, timings),
      heartbeatIntervalSeconds: timings.heartbeatIntervalSeconds,
    };
    if (admitted && passes) {
      const issued = await passes.issue({ roomId: token.roomId, tokenId: token.tokenId, ticket: token.ticket }, now);
      view.pass = issued.pass;
      view.passExpiresAt = issued.expiresAt;
    }
    return view;
  }
}
