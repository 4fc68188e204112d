// --exit-with-stdin: a sandbox guest ends when its manager is gone, even if the manager was killed
// outright and could not stop it, so no simulated VM outlives the app.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ensureGuestBuilt } from '../support/guest-process';
import { processAlive, waitFor } from '../support/control-plane';

describe('guest tied to its parent', () => {
  it('exits when standard input closes', async () => {
    const script = ensureGuestBuilt();
    const child = spawn(process.execPath, [script, '--listen', '127.0.0.1:0', '--no-manager', '--workers', '1', '--exit-with-stdin'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(() => stderr.includes('"listening"'), 10_000, 'the guest to listen');
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.end();
    expect(await exited).toBe(1);
    expect(stderr).toContain('parent_gone');
    expect(processAlive(child.pid as number)).toBe(false);
  });

  it('without the flag, a closed standard input changes nothing', async () => {
    const script = ensureGuestBuilt();
    const child = spawn(process.execPath, [script, '--listen', '127.0.0.1:0', '--no-manager', '--workers', '1'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(() => stderr.includes('"listening"'), 10_000, 'the guest to listen');
    child.stdin.end();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processAlive(child.pid as number)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});
