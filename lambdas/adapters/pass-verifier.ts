/**
 * The admission-pass verifier of the waiting room's own functions (issue 12, item 5: the origin
 * frees a seat with the visitor's pass): the very checks of the origin verifier (verifier/index.ts:
 * ES256 only, the signature, the issuer, the room, the expiry and issue time with its clock
 * tolerance), against the public halves of the key set the function already reads to sign passes
 * (current, next and previous, as the JWKS publishes them), so it needs no call to its own JWKS
 * route and no permission beyond the one to sign.
 */
import type { JSONWebKeySet } from 'jose';
import { PassRejectedError, verifyPass } from '../../verifier/index.js';
import { InvalidPassError, type PassVerifier, type VerifiedPass } from '../domain/index.js';
import { PASS_ISSUER, passJwksOf, type PassKeySet } from '../domain/passes/pass-keys.js';
import type { PassKeySource } from './pass-key-sources.js';

export class KeySetPassVerifier implements PassVerifier {
  /** The JWKS of the last key set read (the source caches the set: one JWKS, imported once, per set). */
  private published?: { keySet: PassKeySet; jwks: JSONWebKeySet };

  constructor(private readonly keys: PassKeySource) {}

  async verify(pass: string, roomId: string, now: number): Promise<VerifiedPass> {
    const keySet = await this.keys.getKeySet();
    if (this.published?.keySet !== keySet) this.published = { keySet, jwks: passJwksOf(keySet) };
    try {
      const claims = await verifyPass(pass, { jwks: this.published.jwks, roomId, issuer: PASS_ISSUER, currentDate: new Date(now) });
      return { roomId: claims.roomId, tokenId: claims.tokenId, ticket: claims.ticket, epoch: claims.epoch };
    } catch (error) {
      if (error instanceof PassRejectedError) throw new InvalidPassError(error.reason);
      throw error;
    }
  }
}
