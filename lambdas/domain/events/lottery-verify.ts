/**
 * The lottery verifier (verifier/LOTTERY.md): from a visitor's signed receipt, the room's
 * publication and, optionally, the room's JWKS, it shows that the visitor's place follows from the
 * revealed seed and the published list, or says each thing that is wrong. The CLI
 * (`waiting-room lottery verify`, cli/lottery.ts) and the verifier page
 * (web/src/lottery-verifier.ts) both run it, and print the same lines (`lotteryReport`).
 *
 * Pure: jose and WebCrypto only, no Node-only import, so it runs in the browser as it does in Node.
 * Every problem is collected (not only the first), each with a stable code.
 */
import { compactVerify, createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors, type JSONWebKeySet } from 'jose';
import { PASS_ALGORITHM } from '../passes/pass-keys.js';
import {
  LOTTERY_RECEIPT_HEADER_TYPE,
  LOTTERY_RECEIPT_TYPE,
  checkPublication,
  entrantProblem,
  entryOf,
  isHex64,
  listDigestOf,
  placeInDraw,
  drawKeyOf,
  type LotteryProblem,
  type LotteryPublication,
  type PublicationProblemCode,
} from './lottery.js';

export type LotteryProblemCode =
  | PublicationProblemCode
  /** Not a compact JWS, not a lottery receipt, or claims missing or of the wrong type. */
  | 'receipt-malformed'
  /** The signature does not verify against the JWKS: another key, an edited receipt, an unknown kid, not ES256. */
  | 'signature-invalid'
  /** The JWKS given is not a JSON Web Key Set. */
  | 'jwks-invalid'
  /** The receipt's entry is not the hash of its own room, event, ticket and token id: an edited receipt. */
  | 'receipt-entry-mismatch'
  /** The receipt was issued for a lottery with another commitment. */
  | 'commitment-mismatch'
  /** The receipt is for another room or another event than the publication. */
  | 'room-mismatch'
  | 'event-mismatch'
  /** The receipt's entry is not in the published list: it was left out. */
  | 'entry-missing';

export interface VerifyLotteryPlaceInput {
  /** The visitor's receipt: a compact JWS. */
  receipt: string;
  /** The room's publication, as parsed JSON (of any shape: it is checked). */
  publication: unknown;
  /** The room's JWKS (GET /.well-known/jwks.json). Without it the signature is not checked, and a warning says so. */
  jwks?: unknown;
}

/** A receipt and publication that agree. */
export interface LotteryPlaceConfirmed {
  ok: true;
  /** The visitor's place in the draw, from 1; undefined until the seed is revealed. */
  place: number | undefined;
  /** How many entries the list holds. */
  of: number;
  roomId: string;
  eventId: string;
  ticket: number;
  tokenId: string;
  entry: string;
  commitment: string;
  /** The revealed seed, when it is. */
  seed?: string;
  /** The entry's draw key under the seed, when it is revealed. */
  drawKey?: string;
  /** SHA-256 of the list's bytes: compare it with the digest of the list published at close. */
  listDigest: string;
  closedAt?: number;
  /** Checked against the JWKS (with the kid of the key that signed), or not checked at all. */
  signature: { checked: true; kid: string } | { checked: false };
  /** What was not checked, or cannot be yet. */
  warnings: string[];
}

export interface LotteryPlaceRefused {
  ok: false;
  problems: LotteryProblem<LotteryProblemCode>[];
  warnings: string[];
}

export type LotteryPlaceResult = LotteryPlaceConfirmed | LotteryPlaceRefused;

/** The warning of a check without a JWKS. */
export const SIGNATURE_NOT_CHECKED = 'The receipt\'s signature was NOT checked (no JWKS given): anyone could have written this receipt';

/** The receipt's claims, read without trusting them; or the reason they cannot be read. */
function readReceipt(receipt: string): { header: Record<string, unknown>; claims: Record<string, unknown> } | string {
  if (typeof receipt !== 'string' || receipt.trim() === '') return 'There is no receipt';
  try {
    return { header: decodeProtectedHeader(receipt.trim()) as Record<string, unknown>, claims: decodeJwt(receipt.trim()) as Record<string, unknown> };
  } catch {
    return 'The receipt is not a compact JWS (three base64url parts separated by dots, with a JSON payload)';
  }
}

/** The receipt's claims as a receipt, or what is wrong with them. */
function receiptFields(header: Record<string, unknown>, claims: Record<string, unknown>) {
  if (header.typ !== LOTTERY_RECEIPT_HEADER_TYPE || claims.typ !== LOTTERY_RECEIPT_TYPE) {
    return `This is not a lottery receipt (its type is ${JSON.stringify(header.typ)} / ${JSON.stringify(claims.typ)}, not ${LOTTERY_RECEIPT_HEADER_TYPE} / ${LOTTERY_RECEIPT_TYPE})`;
  }
  const { room, event, ticket, sub, entry, commitment, iat } = claims;
  const entrant = { roomId: room as string, eventId: event as string, ticket: ticket as number, tokenId: sub as string };
  const problem = entrantProblem(entrant);
  if (problem) return `The receipt's claims cannot be read: ${problem}`;
  if (!isHex64(entry)) return 'The receipt\'s entry is not 64 lowercase hex digits';
  if (!isHex64(commitment)) return 'The receipt\'s commitment is not 64 lowercase hex digits';
  if (typeof iat !== 'number') return 'The receipt has no issue time (iat)';
  return { ...entrant, entry, commitment };
}

/** The kid of the JWKS key that verifies the receipt, or the problem. */
async function checkSignature(receipt: string, jwks: unknown): Promise<{ kid: string } | LotteryProblem<LotteryProblemCode>> {
  let keys: ReturnType<typeof createLocalJWKSet>;
  try {
    keys = createLocalJWKSet(jwks as JSONWebKeySet);
  } catch (error) {
    return { code: 'jwks-invalid', message: `The JWKS is not a JSON Web Key Set: ${error instanceof Error ? error.message : String(error)}` };
  }
  try {
    const { protectedHeader } = await compactVerify(receipt, keys, { algorithms: [PASS_ALGORITHM] });
    return { kid: String(protectedHeader.kid) };
  } catch (error) {
    const header = (() => {
      try {
        return decodeProtectedHeader(receipt);
      } catch {
        return {};
      }
    })();
    const why =
      error instanceof errors.JOSEAlgNotAllowed
        ? `it is signed ${JSON.stringify(header.alg)}, and receipts are ${PASS_ALGORITHM}`
        : error instanceof errors.JWKSNoMatchingKey
          ? `the JWKS has no key ${JSON.stringify(header.kid)} (a receipt signed with another key)`
          : error instanceof errors.JWSSignatureVerificationFailed
            ? `the signature does not match key ${JSON.stringify(header.kid)} (an edited receipt, or another key)`
            : error instanceof Error
              ? error.message
              : String(error);
    return { code: 'signature-invalid', message: `The receipt's signature is not the room's: ${why}` };
  }
}

/**
 * Verifies a visitor's place: the receipt is a lottery receipt (signed by a key of the JWKS, when
 * one is given), its entry is the hash of its own claims, it belongs to the publication's room,
 * event and commitment, its entry is in the list; the list is sorted and unique; the revealed seed
 * hashes to the commitment. Then the place is recomputed from the seed and the list.
 */
export async function verifyLotteryPlace(input: VerifyLotteryPlaceInput): Promise<LotteryPlaceResult> {
  const problems: LotteryProblem<LotteryProblemCode>[] = [];
  const warnings: string[] = [];
  const publicationProblems = await checkPublication(input.publication);
  problems.push(...publicationProblems);
  const pubMalformed = publicationProblems.some((p) => p.code === 'publication-malformed');
  const publication = input.publication as LotteryPublication;

  const receipt = typeof input.receipt === 'string' ? input.receipt.trim() : '';
  const read = readReceipt(receipt);
  const fields = typeof read === 'string' ? read : receiptFields(read.header, read.claims);
  if (typeof fields === 'string') problems.push({ code: 'receipt-malformed', message: fields });

  let signature: LotteryPlaceConfirmed['signature'] = { checked: false };
  if (typeof read !== 'string') {
    if (read.header.alg !== PASS_ALGORITHM) {
      problems.push({ code: 'signature-invalid', message: `The receipt is signed ${JSON.stringify(read.header.alg)}, and receipts are ${PASS_ALGORITHM}` });
    } else if (input.jwks === undefined) {
      warnings.push(SIGNATURE_NOT_CHECKED);
    } else {
      const checked = await checkSignature(receipt, input.jwks);
      if ('code' in checked) problems.push(checked);
      else signature = { checked: true, kid: checked.kid };
    }
  }

  if (typeof fields !== 'string') {
    const recomputed = await entryOf(fields);
    if (recomputed !== fields.entry) {
      problems.push({
        code: 'receipt-entry-mismatch',
        message: `The receipt's entry ${fields.entry} is not the hash of its own room, event, ticket and token id (${recomputed}): the receipt was edited`,
      });
    }
    if (!pubMalformed) {
      if (fields.roomId !== publication.roomId) problems.push({ code: 'room-mismatch', message: `The receipt is for room ${fields.roomId}, the publication for room ${publication.roomId}` });
      if (fields.eventId !== publication.eventId) problems.push({ code: 'event-mismatch', message: `The receipt is for event ${fields.eventId}, the publication for event ${publication.eventId}` });
      if (fields.commitment !== publication.commitment) {
        problems.push({ code: 'commitment-mismatch', message: `The receipt was issued under commitment ${fields.commitment}, the publication's is ${publication.commitment}` });
      }
      if (!publication.entries.includes(fields.entry)) problems.push({ code: 'entry-missing', message: `The receipt's entry ${fields.entry} is not in the published list: it was left out` });
    }
  }

  if (problems.length > 0 || typeof fields === 'string') return { ok: false, problems, warnings };
  const { seed, entries } = publication;
  const drawn = seed === undefined ? undefined : { place: await placeInDraw(seed, entries, fields.entry), drawKey: await drawKeyOf(seed, fields.entry) };
  if (!drawn) warnings.push('The seed is not revealed yet: the entry is in the list, and its place is drawn at the event\'s start');
  return {
    ok: true,
    place: drawn?.place,
    of: entries.length,
    roomId: fields.roomId,
    eventId: fields.eventId,
    ticket: fields.ticket,
    tokenId: fields.tokenId,
    entry: fields.entry,
    commitment: fields.commitment,
    ...(seed !== undefined ? { seed } : {}),
    ...(drawn ? { drawKey: drawn.drawKey } : {}),
    listDigest: await listDigestOf(entries),
    ...(publication.closedAt !== undefined ? { closedAt: publication.closedAt } : {}),
    signature,
    warnings,
  };
}

/** Inputs as text, the way the page and the CLI have them: the receipt, the publication's JSON, the JWKS's JSON. */
export interface LotteryTexts {
  receipt: string;
  publication: string;
  jwks?: string | undefined;
}

/** `verifyLotteryPlace` from text: JSON that does not parse is a problem like any other. */
export async function verifyLotteryTexts(texts: LotteryTexts): Promise<LotteryPlaceResult> {
  const parse = (text: string): { value: unknown } | undefined => {
    try {
      return { value: JSON.parse(text) as unknown };
    } catch {
      return undefined;
    }
  };
  const publication = parse(texts.publication);
  const jwksText = texts.jwks?.trim() ? texts.jwks : undefined;
  // A JWKS that is not JSON is checked as `null`: refused as "not a JSON Web Key Set", never skipped.
  const jwks = jwksText === undefined ? undefined : (parse(jwksText)?.value ?? null);
  const result = await verifyLotteryPlace({ receipt: texts.receipt, publication: publication?.value, ...(jwks !== undefined ? { jwks } : {}) });
  if (publication || result.ok) return result;
  return {
    ...result,
    problems: result.problems.map((p) => (p.code === 'publication-malformed' ? { ...p, message: 'The publication is not JSON' } : p)),
  };
}

/** The result for people: what was checked and the place, or each problem. The CLI prints these lines; the page shows them. */
export function lotteryReport(result: LotteryPlaceResult): string[] {
  if (!result.ok) {
    const count = result.problems.length === 1 ? '1 problem' : `${result.problems.length} problems`;
    return [`NOT CONFIRMED: ${count}`, ...result.problems.map((p) => `  problem (${p.code}): ${p.message}`), ...result.warnings.map((w) => `  warning: ${w}`)];
  }
  const who = `room ${result.roomId}, event ${result.eventId}, ticket ${result.ticket}`;
  return [
    result.place === undefined ? `In the lottery, not drawn yet: ${who} (${result.of} entries so far)` : `Place ${result.place} of ${result.of} in the draw (${who})`,
    result.seed === undefined
      ? `  commitment: ${result.commitment} (the seed is not revealed yet)`
      : `  commitment: ${result.commitment} is SHA-256 of the revealed seed ${result.seed}`,
    result.signature.checked ? `  receipt: signed ${PASS_ALGORITHM} by the room's key ${result.signature.kid}` : '  receipt: signature not checked',
    `  receipt: entry ${result.entry} is the hash of its room, event, ticket and token id; its commitment is the publication's`,
    `  list: ${result.of} entries, sorted and each once, this entry among them; list digest ${result.listDigest}`,
    ...(result.drawKey ? [`  draw: this entry's draw key is ${result.drawKey}; ${result.place! - 1} entries have a smaller one`] : []),
    ...result.warnings.map((w) => `  warning: ${w}`),
  ];
}
