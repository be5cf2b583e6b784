/**
 * The lottery verifier page (web/lottery.html; verifier/LOTTERY.md): the receipt pasted or loaded
 * from a file, the publication pasted or fetched from a URL, the JWKS fetched from a URL when one
 * is given. The checks are `verifyLotteryTexts` and the words `lotteryReport`, the very code the
 * CLI runs (lambdas/domain/events/lottery-verify.ts, WebCrypto and jose): this file is only DOM glue.
 * Everything shown is set as text, never as HTML: the receipt and the publication are untrusted.
 *
 * Linked from the waiting page once drawn (lottery-link.ts): `?room=` fills in the room's
 * publication URL (GET /rooms/{roomId}/lottery, unless `?publication=` gives one) and finds the
 * receipt the waiting page kept, unless `#receipt=` carries it; the publication is fetched when
 * the visitor presses Load or Verify.
 */
import { lotteryReport, verifyLotteryTexts } from '../../lambdas/domain/events/lottery-verify.js';
import { linkedReceiptOf, linkedRoomOf, publicationUrlOf, storedReceiptOf } from './lottery-link.js';

const byId = <T extends HTMLElement>(id: string): T => {
  const element = document.getElementById(id);
  if (!element) throw new Error(`The page has no #${id}`);
  return element as T;
};

const form = byId<HTMLFormElement>('lottery-form');
const receipt = byId<HTMLTextAreaElement>('receipt');
const receiptFile = byId<HTMLInputElement>('receipt-file');
const publication = byId<HTMLTextAreaElement>('publication');
const publicationUrl = byId<HTMLInputElement>('publication-url');
const publicationLoad = byId<HTMLButtonElement>('publication-load');
const jwksUrl = byId<HTMLInputElement>('jwks-url');
const summary = byId<HTMLElement>('result-summary');
const lines = byId<HTMLUListElement>('result-lines');

/** The page's defaults (data-*), overridden by the query (?publication=, ?room=, ?jwks=) and the fragment (#receipt=). */
const query = new URLSearchParams(location.search);
const room = linkedRoomOf(location.search);
const roomPublication = room !== undefined ? publicationUrlOf('', room, location.href) : undefined;
publicationUrl.value = query.get('publication') ?? roomPublication ?? document.body.dataset.publicationUrl ?? '';
jwksUrl.value = query.get('jwks') ?? document.body.dataset.jwksUrl ?? '';
receipt.value = linkedReceiptOf(location.hash) ?? (room !== undefined ? storedReceiptOf(() => localStorage, room) : undefined) ?? '';

function show(ok: boolean | undefined, text: string, detail: readonly string[] = []): void {
  summary.textContent = text;
  if (ok === undefined) delete summary.dataset.ok;
  else summary.dataset.ok = String(ok);
  lines.replaceChildren(
    ...detail.map((line) => {
      const item = document.createElement('li');
      const trimmed = line.trim();
      item.dataset.kind = trimmed.startsWith('problem') ? 'problem' : trimmed.startsWith('warning') ? 'warning' : 'check';
      item.textContent = trimmed;
      return item;
    }),
  );
}

/** The text at an http(s) URL (relative to this page), or an Error saying why not. */
async function fetchText(value: string, what: string): Promise<string> {
  let url: URL;
  try {
    url = new URL(value, location.href);
  } catch {
    throw new Error(`The ${what} URL is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`The ${what} URL must be http(s)`);
  let response: Response;
  try {
    response = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'omit' });
  } catch {
    throw new Error(`Cannot fetch the ${what} from ${url.href} (offline, or the server does not allow this page: CORS)`);
  }
  if (!response.ok) throw new Error(`Cannot fetch the ${what} from ${url.href}: HTTP ${response.status}`);
  return response.text();
}

async function loadPublication(): Promise<void> {
  if (!publicationUrl.value.trim()) return;
  publication.value = await fetchText(publicationUrl.value.trim(), 'publication');
}

async function verify(): Promise<void> {
  show(undefined, 'Checking…');
  if (!publication.value.trim()) await loadPublication();
  const jwks = jwksUrl.value.trim() ? await fetchText(jwksUrl.value.trim(), 'JWKS') : undefined;
  const result = await verifyLotteryTexts({ receipt: receipt.value, publication: publication.value, jwks });
  const [first = '', ...rest] = lotteryReport(result);
  show(result.ok, first, rest);
}

const failed = (error: unknown) => show(false, error instanceof Error ? error.message : String(error));

form.addEventListener('submit', (event) => {
  event.preventDefault();
  verify().catch(failed);
});

publicationLoad.addEventListener('click', () => {
  loadPublication().then(() => show(undefined, 'Publication loaded: verify when the receipt is in.'), failed);
});

receiptFile.addEventListener('change', () => {
  const file = receiptFile.files?.[0];
  if (file) file.text().then((text) => (receipt.value = text.trim()), failed);
});
