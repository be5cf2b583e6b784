/**
 * What a visitor does: join, read, heartbeat, keep its place, leave (DESIGN §2 steps 1-2, §3); and
 * what the origin does for it: free its seat with its pass once it is done.
 *
 * Requests read the room through this environment's cached view (at most a second old) and make
 * at most one write of their own, plus, for a waiting visitor in the front zone when a seat looks
 * free, one admission of itself. Far from the front, a visitor's page works out its place from the
 * shared room status and only sends a keep-place signal minutes apart. An admitted visitor whose
 * admission an emergency stop revoked is refused (departures.ts).
 */
import { Admissions } from '../admission/admission.js';
import { hasFreeSeat } from '../admission/free-seats.js';
import { hashSecret, secretMatches } from './credentials.js';
import type { DomainDeps } from '../deps.js';
import { Departures, admissionRevoked } from './departures.js';
import {
  AdmissionRevokedError,
  ContentionError,
  InvalidCredentialError,
  PassesNotConfiguredError,
  RoomClosedError,
  RoomNotAcceptingError,
  RoomNotFoundError,
  TokenNotFoundError,
} from '../errors.js';
import type { Room, Signal, Token, TokenView } from '../model.js';
import { waitRangeIn } from '../line/estimate-calibration.js';
import { FRONT_ZONE_MIN_TICKETS, lineFacts, placeOf } from '../line/positions.js';
import { admitsUncapped, drawsAtRandom, refusesJoins } from '../line/queue-modes.js';
import { randomPlace } from '../line/random-draw.js';
import { eventClosesJoins, eventHoldsAdmissions, joinsPrequeue, ticketCutOf } from '../events/events.js';

export interface JoinResult {
  view: TokenView;
  secret: string;
}

export class Visitors {
  private readonly admissions: Admissions;
  private readonly departures: Departures;

  constructor(private readonly deps: DomainDeps) {
    this.admissions = new Admissions(deps);
    this.departures = new Departures(deps, this.admissions);
  }

  /**
   * Takes a ticket and joins the line. A visitor who joins in the front zone starts as heartbeating
   * (its first heartbeat, sent at once, takes a free seat when nobody live is ahead); one who joins
   * far back starts as keeping its place.
   */
  async join(roomId: string): Promise<JoinResult> {
    const { store, clock, ids, timings, views, tickets, lotteryReceipts } = this.deps;
    const room = await views.get(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    if (room.state === 'closed') throw new RoomClosedError(roomId);
    if (refusesJoins(room)) throw new RoomNotAcceptingError(roomId, room.message);
    if (eventClosesJoins(room, clock.now())) throw new RoomClosedError(roomId);
    const ticket = await tickets.take(roomId, ticketCutOf(room, clock.now()));
    const now = clock.now();
    const place = placeOf(ticket, lineFacts(room, now, timings));
    // Until an event's draw, nobody is admitted: everyone waits far back, keeping their place.
    const zone = eventHoldsAdmissions(room, now) ? 'far' : place.zone;
    const estimatedWaitSeconds = place.estimatedWaitSeconds + untilStartSeconds(room, now);
    const shown = waitRangeIn(room, estimatedWaitSeconds);
    const secret = ids.secret();
    const token: Token = {
      tokenId: ids.tokenId(),
      roomId,
      ticket,
      secretHash: hashSecret(secret),
      state: 'WAITING',
      signal: zone === 'front' ? 'heartbeat' : 'keep-place',
      issuedAt: now,
      lastSeenAt: now,
      heard: false,
      checkSeq: 0,
      checkDueAt: now + timings.checkDelaySeconds * 1000,
      expiresAtSeconds: Math.ceil(now / 1000) + timings.tokenRetentionSeconds,
      joinEstimateSeconds: estimatedWaitSeconds,
      joinEstimateLowSeconds: shown.lowSeconds,
      joinEstimateHighSeconds: shown.highSeconds,
    };
    // In an event's pre-queue the join is an entry of its lottery, with a signed receipt (signed
    // before the token is written: a failed signature leaves no token behind). A receipt needs the
    // pass keys; without them the page still knows its ticket and token, hence its entry.
    const entry = room.event && joinsPrequeue(room, now) ? room.event : undefined;
    const receipt =
      entry && lotteryReceipts
        ? (await lotteryReceipts.issue({ roomId, eventId: entry.eventId, ticket, tokenId: token.tokenId, commitment: entry.commitment }, now)).receipt
        : undefined;
    await store.putToken(token, room.lineShards);
    // Admits nobody, not even itself: until the visitor uses its secret, nobody knows it got this
    // answer (a lost answer would leave an orphan holding a seat). When a seat looks free, the
    // answer says to heartbeat at once, and that heartbeat takes the seat.
    const view = await this.view(token, room);
    if (zone === 'front' && hasFreeSeat(room, now)) view.heartbeatNow = true;
    if (entry) view.lotteryEventId = entry.eventId;
    if (receipt !== undefined) view.lotteryReceipt = receipt;
    return { view, secret };
  }

  /** The token's state and position, without side effects; a revoked admission is refused (the next heartbeat removes it). */
  async read(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    const token = await this.authenticate(roomId, tokenId, secret);
    const room = await this.room(roomId);
    if (admissionRevoked(token, room)) throw new AdmissionRevokedError(tokenId);
    return this.view(token, room);
  }

  /** "I am still here" from the front zone or an admitted visitor; a waiting visitor first in line takes a free seat. */
  heartbeat(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.signal(roomId, tokenId, secret, 'heartbeat');
  }

  /** "Keep my place" from far back: minutes apart, never admits. */
  keepPlace(roomId: string, tokenId: string, secret: string): Promise<TokenView> {
    return this.signal(roomId, tokenId, secret, 'keep-place');
  }

  /** "I leave": removes the token; a seat it held goes to the next in line at once. */
  async leave(roomId: string, tokenId: string, secret: string): Promise<void> {
    const outcome = await this.departures.remove(roomId, () => this.authenticate(roomId, tokenId, secret), 'left');
    if (outcome !== 'removed') throw new TokenNotFoundError(tokenId);
  }

  /**
   * The origin frees the seat of the visitor whose pass it holds (checkout complete): the pass is
   * verified for this room, and its token removed as a leave removes it, the seat going to the next
   * in line at once. Idempotent: a pass whose token is already gone frees nothing and succeeds.
   */
  async release(roomId: string, pass: string): Promise<void> {
    const { store, clock, passVerifier } = this.deps;
    if (!passVerifier) throw new PassesNotConfiguredError();
    const claims = await passVerifier.verify(pass, roomId, clock.now());
    const outcome = await this.departures.remove(
      roomId,
      async () => {
        const token = await store.getToken(claims.tokenId);
        // The pass's own token (its room and ticket), in whatever state: a leave removes either.
        return token && token.roomId === roomId && token.ticket === claims.ticket ? token : undefined;
      },
      'released',
    );
    if (outcome === 'busy') throw new ContentionError(roomId);
  }

  /**
   * Records a signal in one conditional write that also authenticates (the store compares the
   * secret's SHA-256, never the secret); a refusal is explained with a constant-time comparison.
   */
  private async signal(roomId: string, tokenId: string, secret: string, signal: Signal): Promise<TokenView> {
    const { store, clock, timings } = this.deps;
    const now = clock.now();
    const touched = await store.touchToken({
      tokenId,
      roomId,
      secretHash: hashSecret(secret),
      signal,
      now,
      expiresAtSeconds: Math.ceil(now / 1000) + timings.tokenRetentionSeconds,
    });
    if (touched.kind === 'not-found') throw new TokenNotFoundError(tokenId);
    if (touched.kind === 'mismatch') {
      if (!secretMatches(secret, touched.token.secretHash)) throw new InvalidCredentialError();
      throw new TokenNotFoundError(tokenId); // the right secret, but the token lives in another room
    }
    let token = touched.token;
    const room = await this.room(roomId);
    if (admissionRevoked(token, room)) {
      // An emergency stop: the seat goes to the next in line, and the pass is not renewed.
      const read = async () => {
        const current = await this.deps.store.getToken(tokenId);
        return current && current.roomId === roomId && admissionRevoked(current, room) ? current : undefined;
      };
      await this.departures.remove(roomId, read, 'revoked');
      throw new AdmissionRevokedError(tokenId);
    }
    if (token.state === 'WAITING' && signal === 'heartbeat' && (await this.admissions.admitSelfSafely(token, room, touched.before))) {
      // Admitted in the epoch of the room view it was admitted with: the transaction's condition.
      token = { ...token, state: 'ADMITTED', admittedAt: clock.now(), admittedEpoch: room.epoch };
    }
    return this.view(token, room);
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
    const room = await this.deps.views.get(roomId);
    if (!room) throw new RoomNotFoundError(roomId);
    return room;
  }

  private async view(token: Token, room: Room): Promise<TokenView> {
    const { clock, timings, passes } = this.deps;
    const now = clock.now();
    const admitted = token.state === 'ADMITTED';
    const facts = lineFacts(room, now, timings);
    const place = admitted
      ? { position: 0, estimatedWaitSeconds: 0, zone: 'front' as const }
      : admitsUncapped(room)
        ? // Passthrough: nobody is really ahead, and the next heartbeat goes in.
          { position: 1, estimatedWaitSeconds: 0, zone: 'front' as const }
        : drawsAtRandom(room)
          ? // Random: the visitors in line (a chance of 1 in that at each seat) and their mean wait.
            randomPlace(room, now, timings)
          : placeOf(token.ticket, facts);
    if (!admitted && eventHoldsAdmissions(room, now)) {
      // Before an event's draw: far back, whatever the ticket, and the wait counts from the start.
      place.zone = 'far';
      place.estimatedWaitSeconds += untilStartSeconds(room, now);
    }
    // A heartbeating visitor stays in the front zone unless it is twice the zone's length away: views
    // from environments whose cached room differs by a second must not send it back and forth.
    if (!admitted && token.signal === 'heartbeat' && place.zone === 'far') {
      const length = Math.max(FRONT_ZONE_MIN_TICKETS, facts.frontZoneTicket - facts.lastAdmittedTicket);
      if (token.ticket <= facts.frontZoneTicket + length) place.zone = 'front';
    }
    const view: TokenView = {
      roomId: token.roomId,
      tokenId: token.tokenId,
      ticket: token.ticket,
      state: admitted ? 'admitted' : 'waiting',
      position: place.position,
      estimatedWaitSeconds: place.estimatedWaitSeconds,
      ...rangeFields(room, place.estimatedWaitSeconds),
      roomState: room.state,
      mode: room.mode,
      zone: place.zone,
      heartbeatIntervalSeconds: admitted ? timings.admittedHeartbeatIntervalSeconds : timings.heartbeatIntervalSeconds,
      keepPlaceIntervalSeconds: timings.keepPlaceIntervalSeconds,
      ...(room.message !== undefined ? { message: room.message } : {}),
    };
    if (admitted && passes) {
      const issued = await passes.issue({ roomId: token.roomId, tokenId: token.tokenId, ticket: token.ticket, epoch: token.admittedEpoch ?? 0 }, now);
      view.pass = issued.pass;
      view.passExpiresAt = issued.expiresAt;
    }
    return view;
  }
}

/** Seconds until the room's event starts (0 without one, or once started). */
function untilStartSeconds(room: Room, now: number): number {
  return room.event && now < room.event.start ? Math.ceil((room.event.start - now) / 1000) : 0;
}

/** The range of waits a view shows for its estimate. */
function rangeFields(room: Room, estimatedWaitSeconds: number): Pick<TokenView, 'estimatedWaitLowSeconds' | 'estimatedWaitHighSeconds'> {
  const range = waitRangeIn(room, estimatedWaitSeconds);
  return { estimatedWaitLowSeconds: range.lowSeconds, estimatedWaitHighSeconds: range.highSeconds };
}
