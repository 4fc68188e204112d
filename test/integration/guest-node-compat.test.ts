// The bundled guest server on a Node older than 20.16, which has no process.getBuiltinModule (users'
// own VMs may run any Node ≥ 20): it loads node:worker_threads through its own require instead,
// and its threads start and answer. The missing function is removed by a preload script.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { listenForGuests } from '../support/guest-client';
import { startGuest } from '../support/guest-process';
import { expectServesFromThreads } from '../support/guest-threads-check';

const dir = mkdtempSync(join(tmpdir(), 'cms-old-node-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('guest server on a Node without process.getBuiltinModule', () => {
  it('starts its worker threads and answers on them', async () => {
    const preload = join(dir, 'no-get-builtin-module.cjs');
    writeFileSync(preload, 'process.getBuiltinModule = undefined;\n');
    const manager = await listenForGuests();
    const guest = await startGuest(['--manager', `127.0.0.1:${manager.port}`, '--uuid', 'old-node', '--vcpus', '1', '--workers', '1', '--heartbeat-ms', '100'], { nodeFlags: ['--require', preload] });
    try {
      const conn = await manager.nextGuest();
      expect(await conn.next()).toMatchObject({ t: 'register', uuid: 'old-node' });
      await expectServesFromThreads(conn, 'old-node');
      expect(guest.logs().filter((line) => line.level === 'error')).toEqual([]);
    } finally {
      expect(await guest.stop()).toEqual({ code: 0, signal: null });
      await manager.close();
    }
  });
});
