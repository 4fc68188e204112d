// Bad input against the built guest server: every class gets its error code naming the field and
// the server keeps serving that connection and others; an over-long line closes only its own
// connection; the in-flight cap answers busy; the connection cap refuses politely; idle clients close.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorAnswerSchema, MAX_WORD_CHARS } from '../../guest-server/src/protocol';
import { NdjsonPeer } from '../support/guest-client';
import { startGuest, type GuestProcess } from '../support/guest-process';

let guest: GuestProcess;
const peers: NdjsonPeer[] = [];
const MAX_LINE_BYTES = 4096;

beforeAll(async () => {
  guest = await startGuest(['--workers', '1', '--max-line-bytes', String(MAX_LINE_BYTES), '--max-inflight', '2', '--max-connections', '6', '--hash-rate', '2000']);
});

afterEach(async () => {
  for (const peer of peers.splice(0)) await peer.close();
});

afterAll(async () => {
  const exit = await guest?.stop();
  expect(exit?.code).toBe(0);
});

async function connect(): Promise<NdjsonPeer> {
  const peer = await NdjsonPeer.connect(guest.port);
  peers.push(peer);
  return peer;
}

async function expectServing(peer: NdjsonPeer, id: string): Promise<void> {
  expect(await peer.request({ t: 'ping', id })).toEqual({ t: 'pong', id });
}

describe('bad input', () => {
  it('answers each class with its code and a message naming the field, then keeps serving', async () => {
    const peer = await connect();
    const other = await connect();
    const cases: Array<[string, string, unknown, string]> = [
      ['this is not json', 'bad_json', null, '(line)'],
      ['{"t":"ping","id":1', 'bad_json', null, '(line)'],
      ['[{"t":"ping","id":1}]', 'not_object', null, '(root)'],
      ['17', 'not_object', null, '(root)'],
      ['{"id":5}', 'unknown_type', 5, 't'],
      ['{"t":"launch","id":6}', 'unknown_type', 6, 't'],
      ['{"t":"collide","id":7,"digits":2}', 'bad_field', 7, 'word'],
      ['{"t":"collide","id":8,"word":"w","digits":"2"}', 'bad_field', 8, 'digits'],
      ['{"t":"collide","id":9,"word":"w","digits":0}', 'bad_field', 9, 'digits'],
      ['{"t":"collide","id":10,"word":"w","digits":9}', 'bad_field', 10, 'digits'],
      [`{"t":"collide","id":11,"word":"${'w'.repeat(MAX_WORD_CHARS + 1)}","digits":2}`, 'bad_field', 11, 'word'],
      ['{"t":"collide","id":true,"word":"w","digits":2}', 'bad_field', null, 'id'],
      ['{"t":"ping"}', 'bad_field', null, 'id'],
    ];
    for (const [line, code, id, field] of cases) {
      const answer = peer.next();
      peer.sendRaw(`${line}\n`);
      const error = errorAnswerSchema.parse(await answer);
      expect({ line, code: error.code, id: error.id }).toEqual({ line, code, id });
      expect(error.message).toContain(field);
    }
    await expectServing(peer, 'same-connection');
    await expectServing(other, 'other-connection');
  });

  it('ignores blank lines and accepts CRLF', async () => {
    const peer = await connect();
    peer.sendRaw('\n   \r\n{"t":"ping","id":"crlf"}\r\n');
    expect(await peer.next()).toEqual({ t: 'pong', id: 'crlf' });
  });

  it('closes only the connection that sent an over-long line', async () => {
    const offender = await connect();
    const bystander = await connect();
    offender.sendRaw(`{"t":"ping","id":"x","pad":"${'p'.repeat(MAX_LINE_BYTES)}"}\n`);
    const error = errorAnswerSchema.parse(await offender.next());
    expect(error).toMatchObject({ code: 'line_too_long', id: null });
    expect(error.message).toContain(String(MAX_LINE_BYTES));
    await offender.closed;
    await expectServing(bystander, 'bystander');
    await expectServing(await connect(), 'newcomer');
  });

  it('closes on an over-long line that never ends, too', async () => {
    const offender = await connect();
    offender.sendRaw('x'.repeat(MAX_LINE_BYTES + 10));
    expect(await offender.next()).toMatchObject({ code: 'line_too_long' });
    await offender.closed;
  });

  it('answers busy beyond the in-flight cap, and frees the slots when the client leaves', async () => {
    const peer = await connect();
    // At 2000 hashes/s, 8 hex digits take hours: these two stay in flight.
    peer.send({ t: 'collide', id: 'long-1', word: 'a', digits: 8 });
    peer.send({ t: 'collide', id: 'long-2', word: 'b', digits: 8 });
    const busy = errorAnswerSchema.parse(await peer.request({ t: 'collide', id: 'third', word: 'c', digits: 1 }));
    expect(busy).toMatchObject({ code: 'busy', id: 'third' });
    expect(busy.message).toContain('2');
    await expectServing(peer, 'still-pings');
    await peer.close();
    // The abandoned work was cancelled, so the one worker is free for a new client at once.
    const next = await connect();
    expect(await next.request({ t: 'collide', id: 'after', word: 'word4', digits: 1 }, 5000)).toMatchObject({ t: 'result', match: expect.any(String) });
  });

  it('refuses connections beyond the cap with an error line, and serves again once one closes', async () => {
    const held = await Promise.all(Array.from({ length: 6 }, () => connect()));
    for (const [k, peer] of held.entries()) await expectServing(peer, `held-${k}`);
    const refused = await NdjsonPeer.connect(guest.port);
    expect(errorAnswerSchema.parse(await refused.next())).toMatchObject({ code: 'busy', id: null });
    await refused.closed;
    await (held[0] as NdjsonPeer).close();
    // The server notices the close asynchronously; retry until a slot is free.
    const deadline = Date.now() + 5000;
    for (;;) {
      const peer = await NdjsonPeer.connect(guest.port);
      const first = await peer.request({ t: 'ping', id: 'again' }).catch(() => null);
      if (first?.t === 'pong') {
        peers.push(peer);
        break;
      }
      await peer.close();
      if (Date.now() > deadline) throw new Error('no slot freed after a close');
    }
  });
});

describe('idle timeout', () => {
  it('closes an idle client connection but not one with work in flight', async () => {
    const idle = await startGuest(['--workers', '1', '--idle-timeout-ms', '300', '--hash-rate', '1000']);
    try {
      const quiet = await NdjsonPeer.connect(idle.port);
      const working = await NdjsonPeer.connect(idle.port);
      working.send({ t: 'collide', id: 'w', word: 'a', digits: 8 });
      await expectServing(working, 'p');
      const started = Date.now();
      await quiet.closed;
      expect(Date.now() - started).toBeGreaterThanOrEqual(200);
      // Twice the timeout later, the connection with work in flight is still served.
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(working.isOpen).toBe(true);
      await expectServing(working, 'still');
      await working.close();
    } finally {
      expect(await idle.stop()).toEqual({ code: 0, signal: null });
    }
  });
});
