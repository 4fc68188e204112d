// Loggers: JSON lines in a real temp file with level filtering, the UI sink, field protection,
// never throwing on an unwritable path (one stderr report), and the memory logger for tests.
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../electron/core/clock';
import { JsonLineLogger, memoryLogger, nullLogger, withFields, type LogEntry } from '../../electron/core/metrics/log';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cms-log-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function readLines(path: string): LogEntry[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as LogEntry);
}

describe('JsonLineLogger', () => {
  it('writes parseable JSON lines at or above the minimum level', async () => {
    const path = join(tempDir(), 'nested', 'cms.log');
    const clock = new ManualClock(0, Date.UTC(2025, 0, 2, 3, 4, 5, 678));
    const logger = new JsonLineLogger({ path, minLevel: 'info', clock });
    logger.debug('balancer.request', { id: 1 });
    logger.info('pool.scale', { from: 2, to: 3, reason: 'utilization 0.95 > 0.9' });
    clock.advance(1000);
    logger.warn('agent.heartbeat_missed', { domain: 'cms-1' });
    logger.error('pool.boot_timeout', { error: Object.assign(new Error('no register'), { code: 'boot_timeout' }), big: 10n });
    await logger.close();
    const lines = readLines(path);
    expect(lines.map((l) => l.event)).toEqual(['pool.scale', 'agent.heartbeat_missed', 'pool.boot_timeout']);
    expect(lines[0]).toEqual({ ts: '2025-01-02T03:04:05.678Z', level: 'info', event: 'pool.scale', from: 2, to: 3, reason: 'utilization 0.95 > 0.9' });
    expect(lines[1]?.ts).toBe('2025-01-02T03:04:06.678Z');
    expect(lines[2]).toMatchObject({ level: 'error', error: { name: 'Error', message: 'no register', code: 'boot_timeout' }, big: '10' });
    expect(Object.keys(lines[0] ?? {}).slice(0, 3)).toEqual(['ts', 'level', 'event']);
  });

  it('writes per-request debug lines only at debug level, and appends', async () => {
    const path = join(tempDir(), 'cms.log');
    writeFileSync(path, '{"ts":"x","level":"info","event":"earlier"}\n');
    const logger = new JsonLineLogger({ path, minLevel: 'debug' });
    logger.debug('balancer.request', { id: 7 });
    await logger.close();
    expect(readLines(path).map((l) => l.event)).toEqual(['earlier', 'balancer.request']);
  });

  it('feeds the sink from its own level, and keeps ts/level/event from being overridden', async () => {
    const seen: LogEntry[] = [];
    const logger = new JsonLineLogger({ noFile: true, sink: (e) => seen.push(e), sinkMinLevel: 'warn' });
    logger.info('quiet');
    logger.warn('loud', { level: 'debug', event: 'fake', ts: 'never' });
    const throwing = new JsonLineLogger({ noFile: true, sink: () => { throw new Error('ui gone'); } });
    expect(() => throwing.error('still.fine')).not.toThrow();
    await logger.close();
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ level: 'warn', event: 'loud' });
    expect(seen[0]?.ts).not.toBe('never');
  });

  it('never throws on an unwritable path and reports it once to stderr', async () => {
    const dir = tempDir();
    const blocker = join(dir, 'file');
    writeFileSync(blocker, '');
    const reports: string[] = [];
    const logger = new JsonLineLogger({ path: join(blocker, 'cms.log'), errorStream: { write: (chunk: string | Uint8Array) => { reports.push(String(chunk)); return true; } } });
    for (let i = 0; i < 5; i++) expect(() => logger.info('x', { i })).not.toThrow();
    await new Promise((resolve) => setImmediate(resolve));
    for (let i = 0; i < 5; i++) logger.error('y');
    await logger.close();
    expect(reports).toHaveLength(1);
    expect(JSON.parse(reports[0] ?? '{}')).toMatchObject({ level: 'error', event: 'log.write_failed' });
  });

  it('replaces unserializable fields instead of throwing', async () => {
    const path = join(tempDir(), 'cms.log');
    const logger = new JsonLineLogger({ path });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    logger.info('weird', { circular });
    await logger.close();
    expect(readLines(path)[0]).toMatchObject({ event: 'weird', logError: expect.stringContaining('not serializable') });
  });
});

describe('memoryLogger / nullLogger / withFields', () => {
  it('collects entries with fields', () => {
    const logger = memoryLogger({ minLevel: 'info' });
    const tagged = withFields(logger, { component: 'balancer' });
    tagged.debug('skipped');
    tagged.info('member.ejected', { domain: 'cms-2' });
    expect(logger.entries).toHaveLength(1);
    expect(logger.find('member.ejected')[0]).toMatchObject({ level: 'info', component: 'balancer', domain: 'cms-2' });
    logger.clear();
    expect(logger.entries).toHaveLength(0);
    expect(() => nullLogger.error('nothing')).not.toThrow();
  });
});
