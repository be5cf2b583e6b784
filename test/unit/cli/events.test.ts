/**
 * Scheduled events on the CLI (cli/room-event.ts, cli/times.ts): `rooms set --event ... | --no-event`
 * and the body it sends, times from now or in ISO, what --event leaves out kept from the room's
 * event, bad input refused before any request, and the event as `rooms get` and `rooms list` print it.
 */
import { describe, expect, it } from 'vitest';
import type { FetchLike } from '../../../cli/admin-api.js';
import { EXIT } from '../../../cli/errors.js';
import { runCli, type CliIo } from '../../../cli/main.js';
import { durationText, isoOf, parseTime } from '../../../cli/times.js';
import type { PublicEvent } from '../../../lambdas/domain/model.js';

/** 2026-12-05T09:00:00Z: the CLI's clock in these tests. */
const NOW = Date.UTC(2026, 11, 5, 9);
const MIN = 60_000;
const ROOM = { roomId: 'shop', capacity: 5, state: 'open', mode: 'fifo', activeCount: 0, lastTicket: 0, lastAdmittedTicket: 0, admittedTotal: 0, evictedTotal: 0, epoch: 0, createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:01:00.000Z' };
const COMMITMENT = 'c'.repeat(64);
const EVENT: PublicEvent = { eventId: 'drop-1', phase: 'prequeue', prequeueStart: NOW - 10 * MIN, start: NOW + 30 * MIN + 123, end: NOW + 150 * MIN, atEnd: 'close', commitment: COMMITMENT };
const local = ['--local', '--port', '3999'];

/** A CLI whose API answers GET with `room` and PUT with `room` changed as the body says. */
function cliWith(room: Record<string, unknown> | undefined) {
  const out: string[] = [];
  const err: string[] = [];
  const requests: { method: string; url: string; body?: unknown }[] = [];
  const fetch: FetchLike = async (url, init) => {
    requests.push({ method: init.method, url, ...(init.body ? { body: JSON.parse(init.body) as unknown } : {}) });
    if (init.method === 'GET') return room ? { status: 200, text: async () => JSON.stringify(room) } : { status: 404, text: async () => JSON.stringify({ error: { code: 'ROOM_NOT_FOUND', message: 'Room shop not found' } }) };
    return { status: 200, text: async () => JSON.stringify(room ?? ROOM) };
  };
  const cli: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {}, fetch, now: () => NOW };
  return { cli, out, err, requests, puts: () => requests.filter((r) => r.method === 'PUT').map((r) => r.body) };
}

describe('times on the command line', () => {
  it('reads ISO date-times with a zone, and times from now', () => {
    expect(parseTime('2026-12-05T10:00:00Z', 'start', NOW)).toBe(NOW + 60 * MIN);
    expect(parseTime('2026-12-05T11:00+01:00', 'start', NOW)).toBe(NOW + 60 * MIN);
    expect(parseTime('2026-12-05T09:00:00.250-00:30', 'start', NOW)).toBe(NOW + 30 * MIN + 250);
    expect(parseTime('+30s', 'start', NOW)).toBe(NOW + 30_000);
    expect(parseTime('+10m', 'start', NOW)).toBe(NOW + 10 * MIN);
    expect(parseTime('+1h30m', 'start', NOW)).toBe(NOW + 90 * MIN);
    expect(parseTime('+1d', 'start', NOW)).toBe(NOW + 1_440 * MIN);
    expect(parseTime('now', 'start', NOW)).toBe(NOW);
  });

  it('refuses anything else, naming the option and saying what it takes', () => {
    expect(() => parseTime('2026-12-05T10:00:00', 'start', NOW)).toThrow(/--start must be an ISO date-time with a zone .*: give its zone, Z for UTC \(got 2026-12-05T10:00:00\)/);
    expect(() => parseTime('2026-02-30T10:00:00Z', 'end', NOW)).toThrow(/--end .*no such date or time/);
    expect(() => parseTime('2026-12-05T24:00:00Z', 'end', NOW)).toThrow(/no such date or time/);
    for (const bad of ['+', '+10', '10m', '-5m', '+5x', 'tomorrow', '']) expect(() => parseTime(bad, 'prequeue-start', NOW), bad).toThrow(/--prequeue-start must be/);
  });

  it('prints times in UTC ISO and durations for people', () => {
    expect(isoOf(NOW)).toBe('2026-12-05T09:00:00Z');
    expect(isoOf(NOW + 5)).toBe('2026-12-05T09:00:00.005Z');
    expect([45_000, 12 * MIN, 185 * MIN, 52 * 60 * MIN].map(durationText)).toEqual(['45 s', '12 min', '3 h 5 min', '2 d 4 h']);
  });
});

describe('rooms set --event', () => {
  it('schedules an event from times from now and in ISO, in UTC ISO, and leaves atEnd to the server', async () => {
    const { cli, puts } = cliWith(undefined);
    const argv = ['rooms', 'set', 'shop', '--capacity', '5', '--event', 'drop-1', '--prequeue-start', '+30m', '--start', '2026-12-05T11:00:00+01:00', '--end', '+3h', ...local];
    await expect(runCli(argv, cli)).resolves.toBe(EXIT.ok);
    expect(puts()).toEqual([{ capacity: 5, event: { eventId: 'drop-1', prequeueStart: '2026-12-05T09:30:00Z', start: '2026-12-05T10:00:00Z', end: '2026-12-05T12:00:00Z' } }]);
  });

  it('reads the room only when --event leaves something out, and keeps that from its event of the same id', async () => {
    const full = cliWith(ROOM);
    await runCli(['rooms', 'set', 'shop', '--event', 'drop-1', '--prequeue-start', '+1h', '--start', '+2h', '--no-end', '--at-end', 'passthrough', ...local], full.cli);
    expect(full.requests.map((r) => r.method)).toEqual(['PUT']);
    expect(full.puts()).toEqual([{ event: { eventId: 'drop-1', prequeueStart: '2026-12-05T10:00:00Z', start: '2026-12-05T11:00:00Z', atEnd: 'passthrough' } }]);

    // During the pre-queue only end and atEnd may change: the times are sent back exactly as the room has them.
    const moving = cliWith({ ...ROOM, event: EVENT });
    await expect(runCli(['rooms', 'set', 'shop', '--event', 'drop-1', '--end', '+4h', ...local], moving.cli)).resolves.toBe(EXIT.ok);
    expect(moving.requests.map((r) => r.method)).toEqual(['GET', 'PUT']);
    expect(moving.puts()).toEqual([{ event: { eventId: 'drop-1', prequeueStart: '2026-12-05T08:50:00Z', start: '2026-12-05T09:30:00.123Z', end: '2026-12-05T13:00:00Z', atEnd: 'close' } }]);
    await runCli(['rooms', 'set', 'shop', '--event', 'drop-1', '--no-end', ...local], moving.cli);
    expect(moving.puts()[1]).toEqual({ event: { eventId: 'drop-1', prequeueStart: '2026-12-05T08:50:00Z', start: '2026-12-05T09:30:00.123Z', atEnd: 'close' } });
  });

  it('says a new event needs its times, and removes an event with --no-event', async () => {
    const other = cliWith({ ...ROOM, event: EVENT });
    await expect(runCli(['rooms', 'set', 'shop', '--event', 'drop-2', '--end', '+4h', ...local], other.cli)).resolves.toBe(EXIT.usage);
    expect(other.err.at(-1)).toMatch(/drop-2 is a new event: give --prequeue-start TIME and --start TIME \(the room's event is drop-1: --no-event removes it\)/);
    expect(other.puts()).toEqual([]);
    await expect(runCli(['rooms', 'set', 'shop', '--no-event', ...local], other.cli)).resolves.toBe(EXIT.ok);
    expect(other.puts()).toEqual([{ event: null }]);
  });

  it('refuses bad event options before any request, in the domain\'s words with the options\' names', async () => {
    const { cli, requests, err } = cliWith(ROOM);
    const cases: [string[], RegExp][] = [
      [['--event', 'drop 1', '--prequeue-start', '+1h', '--start', '+2h'], /--event must be an event id/],
      [['--event', 'drop-1', '--prequeue-start', '+2h', '--start', '+1h'], /--prequeue-start must not be after --start/],
      [['--event', 'drop-1', '--prequeue-start', '+1h', '--start', '+2h', '--end', '+90m'], /--end must be after --start/],
      [['--event', 'drop-1', '--prequeue-start', '+1h', '--start', '+9d'], /the pre-queue may last at most 7 days/],
      [['--event', 'drop-1', '--prequeue-start', '+1h', '--start', '+2h', '--at-end', 'open'], /--at-end must be close or passthrough \(got open\)/],
      [['--event', 'drop-1', '--prequeue-start', 'soon', '--start', '+2h'], /--prequeue-start must be an ISO date-time/],
      [['--event', 'drop-1', '--end', '+2h', '--no-end'], /--end TIME or --no-end, not both/],
      [['--start', '+2h'], /give --event ID too/],
      [['--no-event', '--event', 'drop-1'], /--event ID \(with its times\) or --no-event, not both/],
      [['--event', 'drop-1', '--start', '--end', '+2h'], /--start needs a value/],
    ];
    for (const [options, message] of cases) {
      await expect(runCli(['rooms', 'set', 'shop', ...options, ...local], cli), options.join(' ')).resolves.toBe(EXIT.usage);
      expect(err.at(-1), options.join(' ')).toMatch(message);
    }
    expect(requests).toEqual([]);
  });

  it("ends with the API's refusal when the draw has begun", async () => {
    const { cli, err } = cliWith(ROOM);
    cli.fetch = async () => ({ status: 400, text: async () => JSON.stringify({ error: { code: 'BAD_REQUEST', message: 'Event drop-1 is in its prequeue phase: its prequeueStart and start can no longer change (only end and atEnd; or remove the event)' } }) });
    await expect(runCli(['rooms', 'set', 'shop', '--event', 'drop-1', '--prequeue-start', '+1h', '--start', '+2h', '--no-end', '--at-end', 'close', ...local], cli)).resolves.toBe(EXIT.usage);
    expect(err.at(-1)).toMatch(/in its prequeue phase/);
  });
});

describe('the event as rooms get and rooms list print it', () => {
  it('shows the phase with its countdown, the times in ISO and the commitment, then the seed once drawn', async () => {
    const prequeue = cliWith({ ...ROOM, event: EVENT });
    await runCli(['rooms', 'get', 'shop', ...local], prequeue.cli);
    expect(prequeue.out.slice(-4)).toEqual([
      '  event drop-1: pre-queue open (arrivals wait, nobody is admitted), the draw in 30 min',
      '    pre-queue from 2026-12-05T08:50:00Z, draw at 2026-12-05T09:30:00.123Z, ends 2026-12-05T11:30:00Z (then close)',
      `    commitment ${COMMITMENT}`,
      '    seed revealed at the draw',
    ]);
    const drawn = cliWith({ ...ROOM, event: { ...EVENT, phase: 'live', seed: 'a'.repeat(64), drawnAt: NOW - MIN, entries: 1234 } });
    await runCli(['rooms', 'get', 'shop', ...local], drawn.cli);
    expect(drawn.out.join('\n')).toMatch(/event drop-1: live: admitting the 1234 drawn in their drawn order/);
    expect(drawn.out.at(-1)).toBe(`    seed ${'a'.repeat(64)}, drawn 2026-12-05T08:59:00Z (1234 entries): waiting-room lottery verify --room shop --receipt FILE`);
    const scheduled = cliWith({ ...ROOM, event: { ...EVENT, phase: 'scheduled', prequeueStart: NOW + 125 * MIN } });
    await runCli(['rooms', 'get', 'shop', ...local], scheduled.cli);
    expect(scheduled.out.join('\n')).toMatch(/event drop-1: scheduled, the pre-queue opens in 2 h 5 min/);
  });

  it('adds an EVENT column to the list when a room has an event', async () => {
    const { cli, out } = cliWith(undefined);
    cli.fetch = async () => ({ status: 200, text: async () => JSON.stringify({ rooms: [ROOM, { ...ROOM, roomId: 'drop', event: EVENT }] }) });
    await runCli(['rooms', 'list', ...local], cli);
    expect(out[0]).toMatch(/^ROOM\s+STATE\s+SEATS\s+IN LINE\s+ADMITTED\s+EVICTED\s+EVENT$/);
    expect(out[1]).toMatch(/^drop\s.*\s0\s+drop-1 prequeue$/);
    expect(out[2]).toMatch(/^shop\s.*\s0\s+-$/);
  });
});
