// One check two guest tests share: a registered guest reports a ready worker thread and answers real
// work. A thread that cannot start never reports ready, while the main thread's stand-in still
// answers, so the heartbeat is what proves the threads work.
import { expect } from 'vitest';
import { loadMessageSchema, resultAnswerSchema } from '../../guest-server/src/protocol';
import type { NdjsonPeer } from './guest-client';
import { referenceCollide } from './guest-reference';

/** Sends `registered` on the guest's manager connection, then expects a ready thread and a correct answer for `word`. */
export async function expectServesFromThreads(conn: NdjsonPeer, word: string): Promise<void> {
  conn.send({ t: 'registered' });
  const isReadyBeat = (message: Record<string, unknown>): boolean => message.t === 'load' && Number(message.ready) >= 1;
  expect(loadMessageSchema.parse(await conn.next(isReadyBeat, 10_000)).ready).toBeGreaterThanOrEqual(1);
  const answer = resultAnswerSchema.parse(await conn.request({ t: 'collide', id: 1, word, digits: 3 }, 10_000));
  expect(answer.match).toBe(referenceCollide(word, 3).match);
}
