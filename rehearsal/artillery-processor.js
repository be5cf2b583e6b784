/**
 * Artillery's side of the rehearsal (rehearsal/artillery.yml): each virtual user is one visitor,
 * and its journey (journey.js, the same planner k6.js drives) decides every step. The scenario
 * loops over: `nextStep` (wait until the next step is due), then the one request that step names
 * (each request's `ifTrue` picks it), then `afterStep` (follow the answer), until the journey ends.
 *
 * Artillery imports this file with import() (core/runner.js loadProcessor), so it is an ES module
 * like the rest of the package ("type": "module"). Async functions here are awaited by Artillery;
 * a thrown error fails the virtual user and is counted as errors.<message>.
 */
import { COUNTS, Journey, baseUrl } from './journey.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Sets the visitor up: its journey, the base URLs without trailing slashes (the stack's outputs end
 * with "/"), and every journey counter at 0, because an ensure condition over a counter that was
 * never emitted cannot be evaluated and fails.
 */
export async function startJourney(context, events) {
  for (const name of COUNTS) events.emit('counter', `journey.${name}`, 0);
  const vars = context.vars;
  // `-e drop` without its rate runs a few stray visitors (Artillery cannot tell): fail them, and the run.
  if (vars.$environment === 'drop' && !(Number(vars.$env.REHEARSAL_ARRIVAL_RATE) > 0)) {
    throw new Error('-e drop needs REHEARSAL_ARRIVAL_RATE (visitors a second)');
  }
  vars.api = baseUrl(vars.target);
  vars.statusBase = baseUrl(vars.statusBase || vars.target);
  vars.journey = new Journey({
    staySeconds: Number(vars.staySeconds),
    maxWaitSeconds: Number(vars.maxWaitSeconds),
    count: (name) => events.emit('counter', `journey.${name}`, 1),
  });
}

/** Waits until the journey's next step is due and names it in `step` (undefined once the journey is over). */
export async function nextStep(context) {
  const vars = context.vars;
  const step = vars.journey.next(Date.now());
  vars.step = step;
  if (!step) return;
  await sleep(Math.max(0, step.at - Date.now()));
  vars.tokenId = vars.journey.tokenId;
  vars.secret = vars.journey.secret;
}

/** Before each request: note when it was sent (a signal's interval counts from there), and revalidate the status with its ETag. */
export async function beforeStep(requestParams, context) {
  const vars = context.vars;
  vars.sentAt = Date.now();
  if (vars.step?.kind === 'status' && vars.journey.etag) {
    requestParams.headers = { ...requestParams.headers, 'if-none-match': vars.journey.etag };
  }
}

/** After each request: the journey follows the answer (and throws, failing the visitor, on one that is not the protocol's). */
export async function afterStep(requestParams, response, context) {
  const vars = context.vars;
  vars.journey.answer(
    vars.step,
    { status: response.statusCode, body: String(response.body ?? ''), retryAfter: response.headers['retry-after'], etag: response.headers.etag },
    vars.sentAt,
    Date.now(),
  );
}

/** Which request the loop sends this time round (the flow's `ifTrue`s: Artillery passes the visitor's variables). */
const due = (kind) => (vars) => vars.step?.kind === kind;
export const joinDue = due('join');
export const statusDue = due('status');
export const keepPlaceDue = due('keep-place');
export const heartbeatDue = due('heartbeat');
export const leaveDue = due('leave');

/** The loop's `whileTrue`: until the visitor left, gave up or was evicted. */
export function journeyGoesOn(context, next) {
  return next(!context.vars.journey.done);
}
