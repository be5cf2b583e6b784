/**
 * The message to the line (lambdas/domain/rooms/room-message.ts; issue 12, item 6): what a message may be,
 * and where it goes (the public status, every token view).
 */
import { describe, expect, it } from 'vitest';
import { MAX_ROOM_MESSAGE_LENGTH, ValidationError, normalizedRoomMessage, roomMessageProblem, statusOf, timingsWithDefaults } from '../../../lambdas/domain/index.js';
import { domainFixture } from '../../helpers/domain-fixture.js';

describe('what a message may be', () => {
  it('is at most 280 characters, counted as code points (an emoji is one)', () => {
    expect(MAX_ROOM_MESSAGE_LENGTH).toBe(280);
    expect(roomMessageProblem('x'.repeat(280))).toBeUndefined();
    expect(roomMessageProblem('🎟'.repeat(280))).toBeUndefined();
    expect(roomMessageProblem('x'.repeat(281))).toMatch(/at most 280 characters \(got 281\)/);
    expect(roomMessageProblem('🎟'.repeat(281))).toMatch(/got 281/);
  });

  it('is plain text on one line: markup is only text, control characters, line breaks and bidirectional controls are refused', () => {
    expect(roomMessageProblem('<b>Saturday</b> is sold out & <script>x</script>')).toBeUndefined();
    expect(roomMessageProblem('토요일은 매진되었습니다')).toBeUndefined();
    for (const bad of ['Sold\nout', 'Sold\tout', 'Sold\u0000out', 'Sold\u0085out', 'Sold\u2028out', 'Sold \u202eout', 'Sold \u2066out\u2069']) {
      expect(roomMessageProblem(bad), JSON.stringify(bad)).toMatch(/plain text on one line/);
    }
  });

  it('is stored trimmed; null, "" or blanks clear it', () => {
    expect(normalizedRoomMessage('  Saturday is sold out ')).toBe('Saturday is sold out');
    for (const cleared of [null, '', '   ']) expect(normalizedRoomMessage(cleared)).toBeNull();
  });
});

describe('the message of a room', () => {
  it('is set, kept through other changes, changed and cleared by the operator; a bad one is refused and changes nothing', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 2, message: ' Saturday is sold out ' });
    expect(f.store.rooms.get('shop')?.message).toBe('Saturday is sold out');
    await f.rooms.configure('shop', { state: 'paused' });
    expect(f.store.rooms.get('shop')?.message).toBe('Saturday is sold out');
    await expect(f.rooms.configure('shop', { message: 'x'.repeat(281), state: 'open' })).rejects.toBeInstanceOf(ValidationError);
    expect(f.store.rooms.get('shop')).toMatchObject({ message: 'Saturday is sold out', state: 'paused' });
    await f.rooms.configure('shop', { message: 'Sunday too' });
    expect(f.store.rooms.get('shop')?.message).toBe('Sunday too');
    await f.rooms.configure('shop', { message: null });
    expect(f.store.rooms.get('shop')).not.toHaveProperty('message');
  });

  it('is in the public status (part of its bytes) and in every token view, waiting or admitted', async () => {
    const f = domainFixture();
    await f.rooms.configure('shop', { capacity: 1, message: 'Saturday is sold out' });
    const inside = await f.arrive('shop');
    const waiting = await f.arrive('shop');
    expect(inside.view).toMatchObject({ state: 'admitted', message: 'Saturday is sold out' });
    expect(waiting.view).toMatchObject({ state: 'waiting', message: 'Saturday is sold out' });
    const status = await f.rooms.status('shop');
    expect(status).toMatchObject({ message: 'Saturday is sold out', epoch: 0 });
    const room = f.store.rooms.get('shop')!;
    const timings = timingsWithDefaults();
    const { message: _message, ...without } = room;
    expect(JSON.stringify(statusOf(room, f.clock.now(), timings))).not.toBe(JSON.stringify(statusOf(without, f.clock.now(), timings)));
    expect(statusOf(without, f.clock.now(), timings)).not.toHaveProperty('message');
    await f.rooms.configure('shop', { message: '' });
    await expect(f.visitors.read('shop', waiting.view.tokenId, waiting.secret)).resolves.not.toHaveProperty('message');
  });
});
