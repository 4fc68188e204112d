// The guest image's start-up through its V8 code cache (build/guest-image): make-code-cache.cjs
// makes the cache of the real bundle (running it once against a stand-in manager), cached-start.cjs
// loads the bundle with it (accepted: no warning) and the server then answers real work; a cache
// V8 rejects or a missing one only costs a compile and a line on stderr.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { NdjsonPeer } from '../support/guest-client';
import { ensureGuestBuilt } from '../support/guest-process';
import { referenceCollide } from '../support/guest-reference';

const IMAGE_DIR = join(import.meta.dirname, '..', '..', 'build', 'guest-image');
const dir = mkdtempSync(join(tmpdir(), 'cms-code-cache-'));
const servers: ChildProcess[] = [];
afterAll(() => {
  // Also when a test timed out before its own clean-up: no guest server outlives the run.
  for (const server of servers) server.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const bundle = join(dir, 'guest-server.js');
const cache = `${bundle}.v8cache`;
const loader = join(dir, 'cached-start.cjs');

function runLoader(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, [loader, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe('guest start-up through the V8 code cache', () => {
  it('makes the cache, loads the bundle with it and serves', async () => {
    copyFileSync(ensureGuestBuilt(), bundle);
    copyFileSync(join(IMAGE_DIR, 'cached-start.cjs'), loader);
    const made = spawnSync(process.execPath, [join(IMAGE_DIR, 'make-code-cache.cjs'), bundle, cache], { encoding: 'utf8', timeout: 30_000 });
    expect(made.status, made.stderr).toBe(0);
    expect(statSync(cache).size).toBeGreaterThan(10_000);

    const help = runLoader(['--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: node guest-server.js');
    expect(help.stderr).toBe(''); // accepted: no "compiling" line

    // --exit-with-stdin: the server ends by itself if this process goes away.
    const server = spawn(process.execPath, [loader, '--no-manager', '--exit-with-stdin', '--listen', '127.0.0.1:0', '--workers', '1', '--vcpus', '1'], { stdio: ['pipe', 'ignore', 'pipe'] });
    servers.push(server);
    // The guest server logs JSON lines on stderr; the loader's own notes would come first.
    let stderr = '';
    try {
      const port = await new Promise<number>((resolve, reject) => {
        server.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const match = /"event":"listening".*?"port":(\d+)/.exec(stderr);
          if (match) resolve(Number(match[1]));
        });
        server.once('exit', (code) => reject(new Error(`guest server exited (${code}): ${stderr}`)));
        setTimeout(() => reject(new Error(`no listening line within 10 s: ${stderr}`)), 10_000);
      });
      const peer = await NdjsonPeer.connect(port);
      const answer = await peer.request({ t: 'collide', id: 1, word: 'cached', digits: 3 }, 10_000);
      expect(answer).toMatchObject(referenceCollide('cached', 3));
      await peer.close();
      expect(stderr).not.toContain('cached-start:');
    } finally {
      server.kill('SIGKILL');
    }
  });

  it('compiles as usual, and says so, when the cache is rejected or missing', () => {
    writeFileSync(cache, 'not a code cache');
    const rejected = runLoader(['--version']);
    expect(rejected.status).toBe(0);
    expect(rejected.stdout.trim()).toBe('1');
    expect(rejected.stderr).toMatch(/cached-start: .*v8cache was rejected/);

    rmSync(cache);
    const missing = runLoader(['--version']);
    expect(missing.status).toBe(0);
    expect(missing.stderr).toMatch(/cached-start: no code cache at .*: compiling/);

    const usage = spawnSync(process.execPath, [join(IMAGE_DIR, 'make-code-cache.cjs')], { encoding: 'utf8' });
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('usage: node make-code-cache.cjs BUNDLE OUT');
  });
});
