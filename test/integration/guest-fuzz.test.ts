// Property-based fuzzing of the built guest server: thousands of frames of random bytes, random
// JSON and near-miss requests over a few connections. The server must answer every non-blank line
// with exactly one well-formed message, never crash, and keep answering ping.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { errorAnswerSchema, helloAnswerSchema, pongAnswerSchema, resultAnswerSchema } from '../../guest-server/src/protocol';
import { NdjsonPeer, type Message } from '../support/guest-client';
import { startGuest, type GuestProcess } from '../support/guest-process';

let guest: GuestProcess;
const peers: NdjsonPeer[] = [];
const CONNECTIONS = 3;
const RUNS = 110;
const FRAMES_PER_RUN = 50;

beforeAll(async () => {
  guest = await startGuest(['--workers', '1']);
  for (let k = 0; k < CONNECTIONS; k++) peers.push(await NdjsonPeer.connect(guest.port));
});

afterAll(async () => {
  for (const peer of peers) await peer.close();
  const exit = await guest?.stop();
  expect(exit).toEqual({ code: 0, signal: null });
});

/** Any JSON value, except integers that would make a valid collide expensive (3–8 hex digits). */
const cheapJson = fc.jsonValue({ maxDepth: 2 }).filter((v) => !(typeof v === 'number' && Number.isInteger(v) && v >= 3 && v <= 8));

const nearMissRequest = fc
  .record(
    {
      t: fc.oneof(fc.constantFrom('collide', 'ping', 'hello', 'register', 'load', ''), fc.string({ maxLength: 8 }), cheapJson),
      id: fc.oneof(fc.nat(), fc.string({ maxLength: 70 }), cheapJson),
      word: fc.oneof(fc.string({ maxLength: 30 }), cheapJson),
      digits: fc.oneof(fc.constantFrom(-1, 0, 1, 2, 9, 1.5, '2', null), cheapJson),
    },
    { requiredKeys: [] },
  )
  .map((record) => Buffer.from(JSON.stringify(record)));

const frame = fc.oneof(
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.dictionary(fc.string({ maxLength: 6 }), cheapJson, { maxKeys: 5 }).map((value) => Buffer.from(JSON.stringify(value))),
  nearMissRequest,
  fc.string({ maxLength: 60 }).map((text) => Buffer.from(text)),
);

/** How many answers the server owes for these bytes: one per line that is not blank. */
function linesOwed(bytes: Buffer): number {
  let owed = 0;
  let start = 0;
  for (let newline = bytes.indexOf(0x0a); newline >= 0; newline = bytes.indexOf(0x0a, start)) {
    let text = bytes.subarray(start, newline).toString('utf8');
    if (text.endsWith('\r')) text = text.slice(0, -1);
    if (text.trim().length > 0) owed++;
    start = newline + 1;
  }
  return owed;
}

function isWellFormedAnswer(message: Message): boolean {
  return [errorAnswerSchema, resultAnswerSchema, pongAnswerSchema, helloAnswerSchema].some((schema) => schema.safeParse(message).success);
}

async function waitForCount(peer: NdjsonPeer, count: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (peer.received.length < count) {
    if (!peer.isOpen) throw new Error('the guest closed a fuzzed connection');
    if (Date.now() > deadline) throw new Error(`expected ${count} answers, got ${peer.received.length}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

it(`answers every line of ${RUNS * FRAMES_PER_RUN} random frames and keeps serving`, async () => {
  const owed = new Array<number>(CONNECTIONS).fill(0);
  let pingId = 0;
  await fc.assert(
    fc.asyncProperty(fc.nat(CONNECTIONS - 1), fc.array(frame, { minLength: FRAMES_PER_RUN, maxLength: FRAMES_PER_RUN }), async (which, frames) => {
      const peer = peers[which] as NdjsonPeer;
      const bytes = Buffer.concat(frames.flatMap((f) => [f, Buffer.from('\n')]));
      owed[which] = (owed[which] as number) + linesOwed(bytes);
      peer.sendRaw(bytes);
      await waitForCount(peer, owed[which] as number);
      const id = `fuzz-ping-${++pingId}`;
      owed[which] = (owed[which] as number) + 1;
      expect(await peer.request({ t: 'ping', id })).toEqual({ t: 'pong', id });
      expect(peer.received).toHaveLength(owed[which] as number);
    }),
    { numRuns: RUNS },
  );
  for (const peer of peers) {
    expect(peer.garbage).toEqual([]);
    const malformed = peer.received.filter((m) => !isWellFormedAnswer(m));
    expect(malformed).toEqual([]);
  }
  expect(guest.child.exitCode).toBeNull();
  const fresh = await NdjsonPeer.connect(guest.port);
  expect(await fresh.request({ t: 'hello', id: 'end' })).toMatchObject({ t: 'hello', id: 'end' });
  await fresh.close();
}, 60_000);
