/**
 * The verifiable lottery of a scheduled event (issue 12, item 2): the pure part. Between the
 * event's `prequeueStart` and `start`, arrivals wait in a pre-queue; when it opens the room
 * publishes a commitment to a secret seed, at `start` it reveals the seed, and the pre-queue is
 * ordered by a shuffle that anyone can recompute from the seed and the published list of entries.
 *
 * Everything hashed is spelt out here so that a draw can be re-checked by hand with `sha256sum`,
 * `printf` and `xxd` (verifier/LOTTERY.md):
 *
 * - a **seed** is 32 random bytes written as 64 lowercase hex digits;
 * - the **commitment** is SHA-256 of the seed's 32 bytes (not of its 64 hex characters):
 *   `printf %s "$seed" | xxd -r -p | sha256sum`;
 * - a visitor's **entry** is SHA-256 of the UTF-8 text
 *   `wr-lottery-v1\n<roomId>\n<eventId>\n<ticket>\n<tokenId>` (no trailing newline; the ticket in
 *   decimal without leading zeros). No field can hold a newline (id-patterns.ts), so the text is
 *   unambiguous: `printf 'wr-lottery-v1\n%s\n%s\n%s\n%s' "$room" "$event" "$ticket" "$token" | sha256sum`;
 * - an entry's **draw key** is SHA-256 of the seed's 32 bytes followed by the entry's 32 bytes:
 *   `printf %s "$seed$entry" | xxd -r -p | sha256sum`. The draw orders entries by draw key,
 *   ascending (as hex text, which is the order of the bytes), ties (which SHA-256 makes
 *   practically impossible) by entry;
 * - the **list digest** is SHA-256 of the list's entries' bytes, concatenated in list order.
 *
 * The published list holds entries only, sorted by entry: it names nobody and says nothing about
 * arrival order. The token id is not a secret in this system (the visitor's secret is separate),
 * but it is random, so an entry cannot be traced back to a ticket without it.
 *
 * No AWS and no Node-only import: hashing and randomness are WebCrypto (`globalThis.crypto`), so
 * the same code runs in Lambda, in the CLI and in the verifier page (web/src/lottery-verifier.ts).
 */
import { ROOM_ID_PATTERN, TOKEN_ID_PATTERN } from '../id-patterns.js';
import { PASS_ISSUER } from '../passes/pass-keys.js';

/** The version tag that starts every entry's text; a new format gets a new tag. */
export const LOTTERY_ENTRY_VERSION = 'wr-lottery-v1';
/** The `typ` claim of a receipt: what sets it apart from every other token the room signs. */
export const LOTTERY_RECEIPT_TYPE = 'wr-lottery-receipt';
/**
 * The JWS header `typ` of a receipt (explicit typing, RFC 8725 §3.11). Receipts are signed with
 * the admission-pass keys, so they must never pass for a pass: they carry no `exp` (the pass
 * verifier requires one), not the pass issuer, and this header type.
 */
export const LOTTERY_RECEIPT_HEADER_TYPE = 'wr-lottery-receipt+jwt';
/** The `iss` of a receipt unless the signer is told otherwise; never the pass issuer. */
export const LOTTERY_RECEIPT_ISSUER = 'waiting-room/lottery';
/**
 * The shape of an event id. Events have no id pattern of their own yet: an event id has the
 * shape of a room id (letters, digits, "-" and "_", never a newline), which keeps entries unambiguous.
 */
export const LOTTERY_EVENT_ID_PATTERN = ROOM_ID_PATTERN;
/** 32 bytes as 64 lowercase hex digits: a seed, a commitment, an entry, a draw key. */
export const HEX64_PATTERN = /^[0-9a-f]{64}$/;
/** How many digests are asked of WebCrypto at once: enough to keep its workers busy, few enough to bound memory. */
const DIGEST_BATCH = 256;

/** Input the lottery cannot work with: a malformed seed or entry, a duplicate entry, a bad id. */
export class LotteryError extends Error {
  override name = 'LotteryError';
}

const HEX_DIGITS = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

function hexOf(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let hex = '';
  for (const byte of bytes) hex += HEX_DIGITS[byte]!;
  return hex;
}

/** The value of a lowercase hex digit's char code ("0"-"9", "a"-"f"). */
const nibble = (code: number) => (code <= 57 ? code - 48 : code - 87);

/** Writes the 32 bytes of a (checked) 64-digit lowercase hex string into `target` at `offset`. */
function putHex64(target: Uint8Array, offset: number, hex: string): void {
  for (let i = 0; i < 32; i++) target[offset + i] = (nibble(hex.charCodeAt(2 * i)) << 4) | nibble(hex.charCodeAt(2 * i + 1));
}

function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  return globalThis.crypto.subtle.digest('SHA-256', bytes).then(hexOf);
}

function requireHex64(value: unknown, what: string): asserts value is string {
  if (typeof value !== 'string' || !HEX64_PATTERN.test(value)) {
    throw new LotteryError(`${what} must be 64 lowercase hex digits (32 bytes), got ${JSON.stringify(value)}`);
  }
}

/** True when `value` is 64 lowercase hex digits. */
export function isHex64(value: unknown): value is string {
  return typeof value === 'string' && HEX64_PATTERN.test(value);
}

/** A fresh seed: 32 random bytes from `crypto.getRandomValues`, as 64 lowercase hex digits. Keep it secret until `start`. */
export function newLotterySeed(): string {
  return hexOf(globalThis.crypto.getRandomValues(new Uint8Array(32)).buffer);
}

/** The commitment to a seed: hex SHA-256 of the seed's 32 bytes (`printf %s "$seed" | xxd -r -p | sha256sum`). */
export async function commitmentOf(seed: string): Promise<string> {
  requireHex64(seed, 'A lottery seed');
  const bytes = new Uint8Array(32);
  putHex64(bytes, 0, seed);
  return sha256Hex(bytes);
}

/** Who an entry stands for: one pre-queued visitor of one event. */
export interface LotteryEntrant {
  roomId: string;
  eventId: string;
  /** The visitor's pre-queue ticket: a whole number from 1. */
  ticket: number;
  tokenId: string;
}

/** The problem with an entrant's fields, or undefined when they can be hashed. */
export function entrantProblem({ roomId, eventId, ticket, tokenId }: LotteryEntrant): string | undefined {
  if (typeof roomId !== 'string' || !ROOM_ID_PATTERN.test(roomId)) return `the room id ${JSON.stringify(roomId)} is not a room id`;
  if (typeof eventId !== 'string' || !LOTTERY_EVENT_ID_PATTERN.test(eventId)) return `the event id ${JSON.stringify(eventId)} is not an event id`;
  if (typeof ticket !== 'number' || !Number.isSafeInteger(ticket) || ticket < 1) return `the ticket ${JSON.stringify(ticket)} is not a whole number from 1`;
  if (typeof tokenId !== 'string' || !TOKEN_ID_PATTERN.test(tokenId)) return `the token id ${JSON.stringify(tokenId)} is not a token id`;
  return undefined;
}

/** The text an entry hashes: `wr-lottery-v1\n<roomId>\n<eventId>\n<ticket>\n<tokenId>`, no trailing newline. */
export function entryText(entrant: LotteryEntrant): string {
  const problem = entrantProblem(entrant);
  if (problem) throw new LotteryError(`Cannot make a lottery entry: ${problem}`);
  return [LOTTERY_ENTRY_VERSION, entrant.roomId, entrant.eventId, String(entrant.ticket), entrant.tokenId].join('\n');
}

/** The published list's entry for one pre-queued visitor: hex SHA-256 of the UTF-8 `entryText`. */
export async function entryOf(entrant: LotteryEntrant): Promise<string> {
  return sha256Hex(new TextEncoder().encode(entryText(entrant)));
}

/** Checks a seed and a list of entries for a draw: well-formed, no entry twice. */
function checkDrawInput(seed: string, entries: readonly string[]): void {
  requireHex64(seed, 'A lottery seed');
  const seen = new Set<string>();
  entries.forEach((entry, i) => {
    requireHex64(entry, `Entry ${i + 1}`);
    if (seen.has(entry)) throw new LotteryError(`The entry ${entry} is in the list twice: each pre-queued visitor has exactly one entry`);
    seen.add(entry);
  });
}

/**
 * The last draw's keys, by seed and by the list digest of its entries in the order given. A
 * verifier checking many receipts against one publication hashes the list once, not once per
 * receipt. Addressed by content, so a list edited in place is never served stale keys. The keys
 * are kept while they are being hashed, so that receipts checked at once share one hashing.
 */
let lastDraw: { seed: string; digest: string; keys: Promise<string[]> } | undefined;

/** The draw keys of `entries` under `seed`, in the same order: hex SHA-256(seed bytes ‖ entry bytes). */
async function drawKeys(seed: string, entries: readonly string[]): Promise<string[]> {
  const digest = await listDigestOf(entries);
  if (lastDraw?.seed === seed && lastDraw.digest === digest) return lastDraw.keys;
  const keys = hashDrawKeys(seed, entries);
  lastDraw = { seed, digest, keys };
  keys.catch(() => {
    if (lastDraw?.keys === keys) lastDraw = undefined;
  });
  return keys;
}

async function hashDrawKeys(seed: string, entries: readonly string[]): Promise<string[]> {
  const seedBytes = new Uint8Array(32);
  putHex64(seedBytes, 0, seed);
  const keys: string[] = [];
  for (let from = 0; from < entries.length; from += DIGEST_BATCH) {
    const batch = entries.slice(from, from + DIGEST_BATCH).map((entry) => {
      const bytes = new Uint8Array(64);
      bytes.set(seedBytes);
      putHex64(bytes, 32, entry);
      return sha256Hex(bytes);
    });
    keys.push(...(await Promise.all(batch)));
  }
  return keys;
}

/** One entry's draw key: hex SHA-256 of the seed's 32 bytes then the entry's 32 bytes (`printf %s "$seed$entry" | xxd -r -p | sha256sum`). */
export async function drawKeyOf(seed: string, entry: string): Promise<string> {
  checkDrawInput(seed, [entry]);
  const [key] = await hashDrawKeys(seed, [entry]);
  return key!;
}

const byKeyThenEntry = (a: { key: string; entry: string }, b: { key: string; entry: string }) =>
  a.key < b.key ? -1 : a.key > b.key ? 1 : a.entry < b.entry ? -1 : a.entry > b.entry ? 1 : 0;

/**
 * The draw: `entries` ordered by draw key ascending, ties by entry. The first entry has place 1.
 * The order depends only on the seed and the set of entries, never on the order they are given in.
 * Throws a `LotteryError` on a malformed seed or entry, or an entry given twice.
 */
export async function drawOrder(seed: string, entries: readonly string[]): Promise<string[]> {
  checkDrawInput(seed, entries);
  const keys = await drawKeys(seed, entries);
  return entries
    .map((entry, i) => ({ entry, key: keys[i]! }))
    .sort(byKeyThenEntry)
    .map(({ entry }) => entry);
}

/**
 * The 1-based place of `entry` in the draw of `entries` under `seed`, or undefined when the entry
 * is not in the list. The same order as `drawOrder` (one pass counting the entries drawn before it, no sort).
 */
export async function placeInDraw(seed: string, entries: readonly string[], entry: string): Promise<number | undefined> {
  checkDrawInput(seed, entries);
  requireHex64(entry, 'The entry');
  const at = entries.indexOf(entry);
  if (at < 0) return undefined;
  const keys = await drawKeys(seed, entries);
  const mine = { entry, key: keys[at]! };
  let before = 0;
  entries.forEach((other, i) => {
    if (byKeyThenEntry({ entry: other, key: keys[i]! }, mine) < 0) before += 1;
  });
  return before + 1;
}

/** The list digest: hex SHA-256 of the entries' bytes, concatenated in list order. Compare it to see that two lists are the same. */
export async function listDigestOf(entries: readonly string[]): Promise<string> {
  const bytes = new Uint8Array(32 * entries.length);
  entries.forEach((entry, i) => {
    requireHex64(entry, `Entry ${i + 1}`);
    putHex64(bytes, 32 * i, entry);
  });
  return sha256Hex(bytes);
}

/** What a visitor's receipt is about: their entrant fields and the commitment published when the pre-queue opened. */
export interface LotteryReceiptSubject extends LotteryEntrant {
  /** The commitment of the event's lottery (`commitmentOf(seed)`). */
  commitment: string;
}

/**
 * The claims of a lottery receipt, signed ES256 with the pass keys (lottery-receipt-signer.ts).
 * It proves the room gave this visitor this ticket and entry in the lottery with this commitment.
 * Deliberately no `exp` and not the pass issuer: a receipt is never an admission pass.
 */
export interface LotteryReceiptClaims {
  /** `LOTTERY_RECEIPT_ISSUER` unless the signer names another; absent from receipts that carry none. */
  iss?: string;
  typ: typeof LOTTERY_RECEIPT_TYPE;
  room: string;
  event: string;
  ticket: number;
  /** The token id. */
  sub: string;
  /** `entryOf(room, event, ticket, sub)`, so a verifier can see the entry belongs to these claims. */
  entry: string;
  commitment: string;
  /** Issue time, epoch seconds. */
  iat: number;
}

/** The claims of a receipt issued at `now` (epoch milliseconds), its entry computed from the subject. */
export async function lotteryReceiptClaims(subject: LotteryReceiptSubject & { now: number; issuer?: string }): Promise<LotteryReceiptClaims> {
  requireHex64(subject.commitment, 'The commitment');
  if (!Number.isFinite(subject.now)) throw new LotteryError(`now must be a time in epoch milliseconds (got ${subject.now})`);
  const iss = subject.issuer ?? LOTTERY_RECEIPT_ISSUER;
  if (iss === PASS_ISSUER) throw new LotteryError(`A receipt's issuer cannot be "${PASS_ISSUER}", the admission passes' own: a receipt must never pass for a pass`);
  return {
    iss,
    typ: LOTTERY_RECEIPT_TYPE,
    room: subject.roomId,
    event: subject.eventId,
    ticket: subject.ticket,
    sub: subject.tokenId,
    entry: await entryOf(subject),
    commitment: subject.commitment,
    iat: Math.floor(subject.now / 1000),
  };
}

/** A signed receipt, and its entry (what the pre-queue keeps for the published list). */
export interface LotteryReceipt {
  /** The compact JWS the visitor keeps. */
  receipt: string;
  entry: string;
  claims: LotteryReceiptClaims;
}

/** The port that signs receipts (the adapter: `JoseLotteryReceiptSigner`). */
export interface LotteryReceiptIssuer {
  issue(subject: LotteryReceiptSubject, now: number): Promise<LotteryReceipt>;
}

/**
 * What the room publishes for an event's lottery. Published with `commitment` and the entries so
 * far when the pre-queue opens, then with the final list (`closedAt`) and, at `start`, the `seed`.
 * No personal data: entries are hashes.
 */
export interface LotteryPublication {
  roomId: string;
  eventId: string;
  /** `commitmentOf(seed)`, published before anyone could join the pre-queue. */
  commitment: string;
  /** The seed, once revealed at `start`. */
  seed?: string;
  /** Every pre-queued visitor's entry, sorted ascending (as text), each once. */
  entries: string[];
  /** When the pre-queue closed (epoch milliseconds): the list no longer changes. */
  closedAt?: number;
}

/** A publication of `entries` in any order: sorted, checked (well-formed, none twice). */
export function lotteryPublication(input: LotteryPublication): LotteryPublication {
  if (!ROOM_ID_PATTERN.test(input.roomId)) throw new LotteryError(`The room id ${JSON.stringify(input.roomId)} is not a room id`);
  if (!LOTTERY_EVENT_ID_PATTERN.test(input.eventId)) throw new LotteryError(`The event id ${JSON.stringify(input.eventId)} is not an event id`);
  const entries = [...input.entries].sort();
  requireHex64(input.commitment, 'The commitment');
  if (input.seed !== undefined) requireHex64(input.seed, 'The seed');
  entries.forEach((entry, i) => {
    requireHex64(entry, `Entry ${i + 1}`);
    if (i > 0 && entries[i - 1] === entry) throw new LotteryError(`The entry ${entry} is in the list twice`);
  });
  return {
    roomId: input.roomId,
    eventId: input.eventId,
    commitment: input.commitment,
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    entries,
    ...(input.closedAt !== undefined ? { closedAt: input.closedAt } : {}),
  };
}

/** What can be wrong with a publication, each a stable code. */
export type PublicationProblemCode =
  /** Not an object of the expected shape: ids, commitment, seed, closedAt or the list itself. */
  | 'publication-malformed'
  /** An entry that is not 64 lowercase hex digits. */
  | 'list-bad-entry'
  /** The list is not in ascending order: it was reordered, or an entry was added out of place. */
  | 'list-not-sorted'
  /** An entry appears more than once. */
  | 'list-duplicate'
  /** The revealed seed does not hash to the commitment. */
  | 'seed-mismatch';

export interface LotteryProblem<Code extends string = string> {
  code: Code;
  /** One sentence for people. */
  message: string;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * What is wrong with a publication (parsed JSON, of any shape): its fields' shapes, the list
 * sorted and unique and well-formed, and the seed, when revealed, hashing to the commitment.
 * Empty when it is a sound `LotteryPublication`.
 */
export async function checkPublication(value: unknown): Promise<LotteryProblem<PublicationProblemCode>[]> {
  const malformed = (message: string) => [{ code: 'publication-malformed' as const, message }];
  if (!isRecord(value)) return malformed('The publication is not a JSON object');
  const { roomId, eventId, commitment, seed, entries, closedAt } = value;
  if (typeof roomId !== 'string' || !ROOM_ID_PATTERN.test(roomId)) return malformed(`The publication's roomId ${JSON.stringify(roomId)} is not a room id`);
  if (typeof eventId !== 'string' || !LOTTERY_EVENT_ID_PATTERN.test(eventId)) return malformed(`The publication's eventId ${JSON.stringify(eventId)} is not an event id`);
  if (!isHex64(commitment)) return malformed('The publication\'s commitment is not 64 lowercase hex digits');
  if (seed !== undefined && !isHex64(seed)) return malformed('The publication\'s seed is not 64 lowercase hex digits');
  if (closedAt !== undefined && !(typeof closedAt === 'number' && Number.isFinite(closedAt))) return malformed('The publication\'s closedAt is not a time in epoch milliseconds');
  if (!Array.isArray(entries)) return malformed('The publication has no list of entries');

  const problems: LotteryProblem<PublicationProblemCode>[] = [];
  const bad = entries.map((entry, i) => (isHex64(entry) ? -1 : i)).filter((i) => i >= 0);
  if (bad.length > 0) {
    problems.push({ code: 'list-bad-entry', message: `${bad.length} of the list's entries are not 64 lowercase hex digits (the first is number ${bad[0]! + 1})` });
  }
  const texts = entries.filter((entry): entry is string => typeof entry === 'string');
  let unsorted: number | undefined;
  let duplicate: number | undefined;
  for (let i = 1; i < texts.length; i++) {
    if (texts[i] === texts[i - 1]) duplicate ??= i;
    else if (texts[i]! < texts[i - 1]!) unsorted ??= i;
  }
  // An entry given twice out of place is found out even when its two copies are not side by side.
  if (duplicate === undefined && new Set(texts).size !== texts.length) duplicate = -1;
  if (unsorted !== undefined) {
    problems.push({ code: 'list-not-sorted', message: `The list is not sorted: entry ${unsorted + 1} comes before entry ${unsorted} in ascending order (the list was reordered, or an entry was put in)` });
  }
  if (duplicate !== undefined) {
    const which = duplicate >= 0 ? `entry ${texts[duplicate]}` : 'an entry';
    problems.push({ code: 'list-duplicate', message: `The list holds ${which} more than once: each pre-queued visitor has one entry` });
  }
  if (seed !== undefined) {
    const hashed = await commitmentOf(seed);
    if (hashed !== commitment) {
      problems.push({ code: 'seed-mismatch', message: `The revealed seed does not match the commitment: SHA-256 of the seed's bytes is ${hashed}, the commitment is ${commitment}` });
    }
  }
  return problems;
}
