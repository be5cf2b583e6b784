/**
 * The admission-pass issuer (DESIGN §7): a JWT signed ES256 with the key set's `current` key, the
 * key's `kid` in the header, and the room's epoch of the admission in the `ep` claim. Never with `next`: that key is only published, ahead of the rotation
 * that makes it current, so origins know it before the first pass it signs. The key set comes
 * from a `PassKeySource` (which caches it); the private JWK is imported once per key, not once
 * per pass.
 */
import { importJWK, SignJWT, type CryptoKey } from 'jose';
import type { AdmissionPass, PassIssuer } from '../domain/index.js';
import { PASS_ALGORITHM, passClaimsFor, type PassPrivateJwk } from '../domain/passes/pass-keys.js';
import type { PassKeySource } from './pass-key-sources.js';

export interface JosePassIssuerOptions {
  /** Lifetime of a pass, in seconds (the `exp` claim is `iat` + this). */
  ttlSeconds: number;
  /** Imports a private JWK for signing. Default jose's importJWK; tests count the calls. */
  importKey?: (jwk: PassPrivateJwk) => Promise<CryptoKey>;
}

const importSigningKey = (jwk: PassPrivateJwk) => importJWK(jwk, PASS_ALGORITHM) as Promise<CryptoKey>;

/**
 * The imported private key of a JWK, imported again only when the key changes (its kid or `d`):
 * one import per key, not one per signature. A failed import is not kept: the next call tries
 * again. Shared by the pass issuer and the lottery receipt signer (lottery-receipt-signer.ts).
 */
export function signingKeyCache(importKey: (jwk: PassPrivateJwk) => Promise<CryptoKey> = importSigningKey): (jwk: PassPrivateJwk) => Promise<CryptoKey> {
  let imported: { kid: string; d: string; key: Promise<CryptoKey> } | undefined;
  return (jwk) => {
    if (imported?.kid !== jwk.kid || imported.d !== jwk.d) {
      const entry = { kid: jwk.kid, d: jwk.d, key: importKey(jwk) };
      imported = entry;
      entry.key.catch(() => {
        if (imported === entry) imported = undefined;
      });
    }
    return imported.key;
  };
}

export class JosePassIssuer implements PassIssuer {
  /** The imported private key for a JWK, imported again only when the current key changes. */
  private readonly signingKey: (jwk: PassPrivateJwk) => Promise<CryptoKey>;

  constructor(
    private readonly keys: PassKeySource,
    private readonly options: JosePassIssuerOptions,
  ) {
    if (!Number.isFinite(options.ttlSeconds) || options.ttlSeconds <= 0) {
      throw new RangeError(`ttlSeconds must be positive (got ${options.ttlSeconds})`);
    }
    this.signingKey = signingKeyCache(options.importKey);
  }

  async issue(claims: { roomId: string; tokenId: string; ticket: number; epoch: number }, now: number): Promise<AdmissionPass> {
    const { current } = await this.keys.getKeySet();
    const key = await this.signingKey(current);
    const { iss, sub, room, ticket, ep, iat, exp } = passClaimsFor(claims, now, this.options.ttlSeconds);
    const pass = await new SignJWT({ room, ticket, ep })
      .setProtectedHeader({ alg: PASS_ALGORITHM, kid: current.kid, typ: 'JWT' })
      .setIssuer(iss)
      .setSubject(sub)
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(key);
    return { pass, expiresAt: exp * 1000 };
  }
}
