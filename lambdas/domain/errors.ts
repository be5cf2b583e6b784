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

/** Contention on a room item outlasted the retries; the caller may try again. */
export class ContentionError extends DomainError {
  readonly code = 'CONTENTION';
  constructor(readonly roomId: string) {
    super(`Room ${roomId} is busy, try again`);
  }
}
