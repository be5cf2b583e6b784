/**
 * The operator's message to the line (issue 12, item 6): a short plain-text note per room, such as
 * "Saturday is sold out", returned in the public status and the token views and shown on the
 * waiting page as text (never as HTML).
 *
 * The one definition of what a message may be, used by the domain (Rooms.configure), the API's
 * schema, the CLI and the admin page. No imports: the browser imports it too.
 *
 * At most MAX_ROOM_MESSAGE_LENGTH characters (Unicode code points, as JSON Schema's maxLength counts
 * them), on one line; it is stored trimmed, and one that is empty once trimmed clears it. On one line: no control
 * characters (line breaks and tabs included), no line or paragraph separators, and no bidirectional
 * embedding, override or isolate characters, which could make the text around it read otherwise.
 * Markup is allowed and shown as it is written: `<b>` is five characters on the page.
 */

/** The longest message, in characters (code points). */
export const MAX_ROOM_MESSAGE_LENGTH = 280;

/** Characters a message may not hold: C0 and C1 controls, U+2028-U+2029, and the bidi controls U+202A-U+202E, U+2066-U+2069. */
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** How many characters (code points) the text has. */
export function messageLength(text: string): number {
  return [...text].length;
}

/** What is wrong with a message as given (before trimming: the API's maxLength is the same rule), or undefined when it is fine. */
export function roomMessageProblem(text: string): string | undefined {
  const length = messageLength(text);
  if (length > MAX_ROOM_MESSAGE_LENGTH) return `message must be at most ${MAX_ROOM_MESSAGE_LENGTH} characters (got ${length})`;
  if (FORBIDDEN.test(text)) return 'message must be plain text on one line: no control characters, line breaks or bidirectional controls';
  return undefined;
}

/** The message to store: trimmed, or null (clear it) for null or a text that is empty once trimmed. Check it with roomMessageProblem first. */
export function normalizedRoomMessage(value: string | null): string | null {
  const trimmed = value?.trim() ?? '';
  return trimmed === '' ? null : trimmed;
}
