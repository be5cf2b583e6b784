/**
 * Domain errors. Each has a stable `code`; `lambdas/shared/http.ts` maps them to HTTP statuses once.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class ValidationError extends DomainError {
  readonly code = 'BAD_REQUEST';
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
  }
}

export class PayloadTooLargeError extends DomainError {
  readonly code = 'PAYLOAD_TOO_LARGE';
}

export class MissingCredentialError extends DomainError {
  readonly code = 'MISSING_CREDENTIAL';
  constructor() {
    super('Authorization: Bearer <secret> is required');
  }
}

export class InvalidCredentialError extends DomainError {
  readonly code = 'INVALID_CREDENTIAL';
  constructor() {
    super('The secret does not match this token');
  }
}

export class RoomNotFoundError extends DomainError {
  readonly code = 'ROOM_NOT_FOUND';
  constructor(readonly roomId: string) {
    super(`Room ${roomId} does not exist`);
  }
}

/** The room has no scheduled event, hence no lottery to publish. */
export class NoEventError extends DomainError {
  readonly code = 'NO_EVENT';
  constructor(readonly roomId: string) {
    super(`Room ${roomId} has no scheduled event`);
  }
}

export class TokenNotFoundError extends DomainError {
  readonly code = 'TOKEN_NOT_FOUND';
  constructor(readonly tokenId: string) {
    super(`Token ${tokenId} is unknown, has left, or was removed after going silent`);
  }
}

export class RoomClosedError extends DomainError {
  readonly code = 'ROOM_CLOSED';
  constructor(readonly roomId: string) {
    super(`Room ${roomId} is closed and takes no new visitors`);
  }
}

/**
 * The room takes no new visitors in its current mode (reject: sold out, or not open yet): no ticket
 * is issued. The operator's message, when one is set, says why.
 */
export class RoomNotAcceptingError extends DomainError {
  readonly code = 'ROOM_NOT_ACCEPTING';
  constructor(
    readonly roomId: string,
    readonly roomMessage?: string,
  ) {
    super(roomMessage ? `Room ${roomId} takes no new visitors: ${roomMessage}` : `Room ${roomId} takes no new visitors`);
  }
}

/** Contention on a room item outlasted the retries; the caller may try again. */
export class ContentionError extends DomainError {
  readonly code = 'CONTENTION';
  constructor(readonly roomId: string) {
    super(`Room ${roomId} is busy, try again`);
  }
}

/**
 * The visitor was admitted before the room's last emergency stop (`revokePasses`): its admission is
 * revoked and its token removed; it may join the line again (410 Gone).
 */
export class AdmissionRevokedError extends DomainError {
  readonly code = 'ADMISSION_REVOKED';
  constructor(readonly tokenId: string) {
    super(`The admission of token ${tokenId} was revoked by an emergency stop of the room: join the line again`);
  }
}

/** No admission pass in a request that needs one. */
export class MissingPassError extends DomainError {
  readonly code = 'MISSING_PASS';
  constructor() {
    super('An admission pass is required: Authorization: Bearer <pass>, or the wr_pass cookie');
  }
}

/** An admission pass that does not verify for this room: forged, expired, malformed, or another room's. */
export class InvalidPassError extends DomainError {
  readonly code = 'INVALID_PASS';
  constructor(
    /** Why, as the verifier says it (verifier/index.ts PassRejectionReason); never the pass itself. */
    readonly reason: string,
  ) {
    super(`The admission pass is not valid for this room (${reason})`);
  }
}

/** Admission passes are not configured (no key set): nothing can verify one. */
export class PassesNotConfiguredError extends DomainError {
  readonly code = 'PASSES_NOT_CONFIGURED';
  constructor() {
    super('Admission passes are not configured');
  }
}
