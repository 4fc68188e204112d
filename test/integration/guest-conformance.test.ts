// The built guest server answers the protocol correctly: collide matches checked against an
// independent naive search, pipelined requests on one connection answered by id (in any order),
// hello and ping. Runs guest-server/dist/guest-server.js as a real process on 127.0.0.1:0.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { helloAnswerSchema, pongAnswerSchema, resultAnswerSchema, PROTOCOL_VERSION } from '../../guest-server/src/protocol';
import { NdjsonPeer } from '../support/guest-client';
import { startGuest, type GuestProcess } from '../support/guest-process';
import { referenceCollide } from '../support/guest-reference';

let guest: GuestProcess;
const peers: NdjsonPeer[] = [];

beforeAll(async () => {
  guest = await startGuest(['--workers', '2', '--vcpus', '3', '--uuid', 'conformance-uuid']);
});

afterAll(async () => {
  for (const peer of peers) await peer.close();
  const exit = await guest?.stop();
  expect(exit?.code).toBe(0);
});

async function connect(): Promise<NdjsonPeer> {
  const peer = await NdjsonPeer.connect(guest.port);
  peers.push(peer);
  return peer;
}

describe('guest server conformance', () => {
  it('answers hello with its identity and ping with pong', async () => {
    const peer = await connect();
    const hello = helloAnswerSchema.parse(await peer.request({ t: 'hello', id: 1 }));
    expect(hello).toEqual({ t: 'hello', id: 1, version: PROTOCOL_VERSION, uuid: 'conformance-uuid', vcpus: 3, workers: 2 });
    expect(pongAnswerSchema.parse(await peer.request({ t: 'ping', id: 'p-1' }))).toEqual({ t: 'pong', id: 'p-1' });
  });

  it('finds the same match as an independent search, for several words and digits 1–5', async () => {
    const peer = await connect();
    const cases: Array<[string, number]> = [];
    for (const word of ['word0', 'word1', 'word3', 'héllo wörld']) for (let digits = 1; digits <= 4; digits++) cases.push([word, digits]);
    // Five hex digits average a million candidates; these words are known to match early.
    cases.push(['word24', 5], ['word9', 5]);
    let id = 100;
    for (const [word, digits] of cases) {
      const answer = resultAnswerSchema.parse(await peer.request({ t: 'collide', id: ++id, word, digits }));
      const expected = referenceCollide(word, digits);
      expect({ word, digits, match: answer.match, attempts: answer.attempts }).toEqual({ word, digits, ...expected });
      expect(answer.ms).toBeGreaterThanOrEqual(0);
    }
  });

  it('answers 20 pipelined requests of mixed difficulty by id', async () => {
    const peer = await connect();
    const requests = Array.from({ length: 20 }, (_, k) => ({ t: 'collide', id: `pipe-${k}`, word: `word${k}`, digits: (k % 4) + 1 }));
    // All written in one go, before reading anything.
    peer.sendRaw(requests.map((r) => `${JSON.stringify(r)}\n`).join(''));
    const answers = await Promise.all(requests.map((r) => peer.next((m) => m.id === r.id)));
    for (const [k, answer] of answers.entries()) {
      const request = requests[k] as (typeof requests)[number];
      const result = resultAnswerSchema.parse(answer);
      expect(result.match).toBe(referenceCollide(request.word, request.digits).match);
    }
    // The arrival order is whatever the workers finished in; every id came exactly once.
    const ids = peer.received.filter((m) => typeof m.id === 'string' && m.id.startsWith('pipe-')).map((m) => m.id);
    expect(new Set(ids).size).toBe(20);
    expect(ids).toHaveLength(20);
  });

  it('answers out of order: a ping overtakes a collide still being searched', async () => {
    const peer = await connect();
    peer.send({ t: 'collide', id: 'slow', word: 'word9', digits: 5 });
    peer.send({ t: 'ping', id: 'fast' });
    await peer.next((m) => m.id === 'slow');
    const order = peer.received.map((m) => m.id);
    expect(order.indexOf('fast')).toBeLessThan(order.indexOf('slow'));
  });

  it('serves several connections at once, each getting only its own answers', async () => {
    const [a, b] = [await connect(), await connect()];
    const [ra, rb] = await Promise.all([
      a.request({ t: 'collide', id: 1, word: 'word2', digits: 3 }),
      b.request({ t: 'collide', id: 1, word: 'word5', digits: 3 }),
    ]);
    expect(ra.match).toBe(referenceCollide('word2', 3).match);
    expect(rb.match).toBe(referenceCollide('word5', 3).match);
    expect(a.received.filter((m) => m.id === 1)).toHaveLength(1);
    expect(b.received.filter((m) => m.id === 1)).toHaveLength(1);
  });
});
