// Request handling without sockets: every bad-input class maps to its error code and names the
// field, and a Session keeps answers matched by id, enforces its in-flight cap and drains. The pool
// here is a plain object that completes jobs when the test says so (the real one is exercised
// through the built server in test/integration).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CollideJob, JobHandle, JobOutcome } from '../../guest-server/src/pool';
import { errorAnswerSchema, MAX_WORD_CHARS } from '../../guest-server/src/protocol';
import { parseRequestLine } from '../../guest-server/src/requests';
import { GuestStats, Session } from '../../guest-server/src/session';
import { silentLogger } from '../../guest-server/src/log';

function errorOf(text: string): { id: unknown; code: string; message: string } {
  const parsed = parseRequestLine(text);
  if (parsed.ok) throw new Error(`expected an error for ${text}`);
  return parsed.error;
}

describe('parseRequestLine', () => {
  it('accepts the three request types', () => {
    expect(parseRequestLine('{"t":"hello","id":1}')).toEqual({ ok: true, request: { t: 'hello', id: 1 } });
    expect(parseRequestLine('{"t":"ping","id":"a"}')).toEqual({ ok: true, request: { t: 'ping', id: 'a' } });
    expect(parseRequestLine('{"t":"collide","id":7,"word":"w","digits":3,"extra":true}')).toEqual({
      ok: true,
      request: { t: 'collide', id: 7, word: 'w', digits: 3 },
    });
  });

  it.each([
    ['not json', 'bad_json', null, '(line)'],
    ['{"t":"ping"', 'bad_json', null, '(line)'],
    ['[1,2]', 'not_object', null, '(root)'],
    ['42', 'not_object', null, '(root)'],
    ['null', 'not_object', null, '(root)'],
    ['"ping"', 'not_object', null, '(root)'],
    ['{}', 'unknown_type', null, 't: missing'],
    ['{"id":3}', 'unknown_type', 3, 't: missing'],
    ['{"t":"nope","id":4}', 'unknown_type', 4, 't: unknown type "nope"'],
    ['{"t":5,"id":"s"}', 'unknown_type', 's', 't:'],
    ['{"t":"registered","id":1}', 'unknown_type', 1, 't:'],
    ['{"t":"ping"}', 'bad_field', null, 'id'],
    ['{"t":"ping","id":-1}', 'bad_field', null, 'id'],
    ['{"t":"ping","id":{}}', 'bad_field', null, 'id'],
    ['{"t":"ping","id":""}', 'bad_field', null, 'id'],
    ['{"t":"collide","id":1,"digits":3}', 'bad_field', 1, 'word'],
    ['{"t":"collide","id":1,"word":7,"digits":3}', 'bad_field', 1, 'word'],
    ['{"t":"collide","id":1,"word":"w"}', 'bad_field', 1, 'digits'],
    ['{"t":"collide","id":1,"word":"w","digits":0}', 'bad_field', 1, 'digits'],
    ['{"t":"collide","id":1,"word":"w","digits":9}', 'bad_field', 1, 'digits'],
    ['{"t":"collide","id":1,"word":"w","digits":2.5}', 'bad_field', 1, 'digits'],
    ['{"t":"collide","id":1,"word":"w","digits":"3"}', 'bad_field', 1, 'digits'],
    [`{"t":"collide","id":1,"word":"${'x'.repeat(MAX_WORD_CHARS + 1)}","digits":3}`, 'bad_field', 1, 'word'],
  ])('%s → %s', (line, code, id, fieldText) => {
    const error = errorOf(line);
    expect(errorAnswerSchema.parse(error)).toEqual(error);
    expect(error.code).toBe(code);
    expect(error.id).toBe(id);
    expect(error.message).toContain(fieldText);
  });

  it('never throws and always yields a schema-valid error or request', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v))), (text) => {
        const parsed = parseRequestLine(text);
        if (!parsed.ok) errorAnswerSchema.parse(parsed.error);
      }),
      { numRuns: 3000 },
    );
  });
});

/** A pool whose jobs finish only when the test calls complete(). */
function manualPool(): { submit(job: CollideJob, onDone: (o: JobOutcome) => void): JobHandle; jobs: Array<{ job: CollideJob; done: (o: JobOutcome) => void; cancelled: boolean }> } {
  const jobs: Array<{ job: CollideJob; done: (o: JobOutcome) => void; cancelled: boolean }> = [];
  return {
    jobs,
    submit(job, onDone) {
      const entry = { job, done: onDone, cancelled: false };
      jobs.push(entry);
      return {
        cancel: () => {
          if (entry.cancelled) return;
          entry.cancelled = true;
          queueMicrotask(() => onDone({ kind: 'cancelled' }));
        },
      };
    },
  };
}

function session(maxInflight = 3, draining = false) {
  const sent: Array<Record<string, unknown>> = [];
  const pool = manualPool();
  const stats = new GuestStats();
  const state = { draining };
  const s = new Session((m) => sent.push(m as Record<string, unknown>), {
    pool,
    stats,
    identity: { version: '1', uuid: 'u', vcpus: 2, workers: 2 },
    maxInflight,
    isDraining: () => state.draining,
    log: silentLogger,
  }, 'test');
  return { s, sent, pool, stats, state };
}

describe('Session', () => {
  it('answers hello and ping at once, and collide results by id in completion order', () => {
    const { s, sent, pool, stats } = session();
    s.handleLine('{"t":"hello","id":1}');
    s.handleLine('{"t":"ping","id":2}');
    s.handleLine('{"t":"collide","id":10,"word":"a","digits":1}');
    s.handleLine('{"t":"collide","id":11,"word":"b","digits":1}');
    s.handleLine('   ');
    expect(sent).toEqual([
      { t: 'hello', id: 1, version: '1', uuid: 'u', vcpus: 2, workers: 2 },
      { t: 'pong', id: 2 },
    ]);
    expect(stats.inflight).toBe(2);
    pool.jobs[1]?.done({ kind: 'result', match: '5', attempts: 6, ms: 1 });
    pool.jobs[0]?.done({ kind: 'result', match: '9', attempts: 10, ms: 2 });
    expect(sent.slice(2)).toEqual([
      { t: 'result', id: 11, match: '5', attempts: 6, ms: 1 },
      { t: 'result', id: 10, match: '9', attempts: 10, ms: 2 },
    ]);
    expect(stats).toMatchObject({ inflight: 0, completed: 2 });
  });

  it('says busy beyond the in-flight cap, and internal when a worker failed', () => {
    const { s, sent, pool } = session(2);
    for (let id = 1; id <= 3; id++) s.handleLine(`{"t":"collide","id":${id},"word":"w","digits":1}`);
    expect(sent).toEqual([expect.objectContaining({ t: 'error', id: 3, code: 'busy' })]);
    pool.jobs[0]?.done({ kind: 'failed', message: 'worker exited with code 1' });
    expect(sent[1]).toMatchObject({ t: 'error', id: 1, code: 'internal' });
    s.handleLine('{"t":"collide","id":4,"word":"w","digits":1}');
    expect(pool.jobs).toHaveLength(3);
  });

  it('while draining answers shutting_down; abortAll answers what is in flight once', async () => {
    const { s, sent, stats, state } = session();
    s.handleLine('{"t":"collide","id":1,"word":"w","digits":1}');
    state.draining = true;
    s.handleLine('{"t":"ping","id":2}');
    expect(sent).toEqual([expect.objectContaining({ id: 2, code: 'shutting_down' })]);
    s.abortAll('shutting_down', 'bye');
    expect(sent[1]).toMatchObject({ id: 1, code: 'shutting_down' });
    await stats.whenIdle();
    expect(sent).toHaveLength(2);
  });

  it('close() cancels the work and sends nothing more', async () => {
    const { s, sent, pool, stats } = session();
    s.handleLine('{"t":"collide","id":1,"word":"w","digits":1}');
    s.close();
    expect(pool.jobs[0]?.cancelled).toBe(true);
    await stats.whenIdle();
    s.handleLine('{"t":"ping","id":2}');
    expect(sent).toEqual([]);
  });
});
