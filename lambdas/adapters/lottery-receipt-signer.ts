/**
 * The lottery receipt signer (issue 12, item 2; lambdas/domain/events/lottery.ts): a compact JWS over the
 * receipt's claims, signed ES256 with the pass key set's `current` key, its `kid` in the header,
 * so that anyone can check it against the room's published JWKS. The key is imported once per key,
 * as the pass issuer does (`signingKeyCache`, pass-signer.ts).
 *
 * The header's `typ` is `wr-lottery-receipt+jwt`, not `JWT`: the same keys sign admission passes,
 * and explicit typing (with no `exp` and another issuer) keeps a receipt from passing for a pass.
 */
import { SignJWT, type CryptoKey } from 'jose';
import {
  LOTTERY_RECEIPT_HEADER_TYPE,
  lotteryReceiptClaims,
  type LotteryReceipt,
  type LotteryReceiptClaims,
  type LotteryReceiptIssuer,
  type LotteryReceiptSubject,
} from '../domain/events/lottery.js';
import { PASS_ALGORITHM, type PassPrivateJwk } from '../domain/passes/pass-keys.js';
import type { PassKeySource } from './pass-key-sources.js';
import { signingKeyCache } from './pass-signer.js';

export interface JoseLotteryReceiptSignerOptions {
  /** The receipts' `iss`. Default `LOTTERY_RECEIPT_ISSUER`; never the pass issuer. */
  issuer?: string;
  /** Imports a private JWK for signing. Default jose's importJWK; tests count the calls. */
  importKey?: (jwk: PassPrivateJwk) => Promise<CryptoKey>;
}

export class JoseLotteryReceiptSigner implements LotteryReceiptIssuer {
  private readonly signingKey: (jwk: PassPrivateJwk) => Promise<CryptoKey>;

  constructor(
    private readonly keys: PassKeySource,
    private readonly options: JoseLotteryReceiptSignerOptions = {},
  ) {
    this.signingKey = signingKeyCache(options.importKey);
  }

  /** The receipt of `subject` issued at `now` (epoch milliseconds), and the entry it stands for. */
  async issue(subject: LotteryReceiptSubject, now: number): Promise<LotteryReceipt> {
    const claims = await lotteryReceiptClaims({ ...subject, now, ...(this.options.issuer !== undefined ? { issuer: this.options.issuer } : {}) });
    return { receipt: await this.sign(claims), entry: claims.entry, claims };
  }

  /** Signs claims made by `lotteryReceiptClaims` (nothing is added or checked here). */
  async sign(claims: LotteryReceiptClaims): Promise<string> {
    const { current } = await this.keys.getKeySet();
    const key = await this.signingKey(current);
    return new SignJWT({ ...claims }).setProtectedHeader({ alg: PASS_ALGORITHM, kid: current.kid, typ: LOTTERY_RECEIPT_HEADER_TYPE }).sign(key);
  }
}
