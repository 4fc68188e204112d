// `npm run security` (run over electron/ by `npm test` itself) must really fail on a HIGH finding:
// here, a known-bad window in a scratch folder. Offline: the wrapper replaces the scanner's
// downloads; where possible the scan also runs in a network namespace to prove it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const isolated = spawnSync('unshare', ['-n', 'true']).status === 0;
const scratch = mkdtempSync(join(tmpdir(), 'cms-security-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scan(...args: string[]): { status: number | null; out: string } {
  const command = [process.execPath, join(root, 'build', 'security.mjs'), ...args];
  const result = isolated ? spawnSync('unshare', ['-n', ...command], { cwd: root, encoding: 'utf8' }) : spawnSync(command[0] ?? '', command.slice(1), { cwd: root, encoding: 'utf8' });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe('security scan', () => {
  it('fails on a window that turns the protections off', () => {
    writeFileSync(
      join(scratch, 'main.ts'),
      "import { BrowserWindow } from 'electron';\nexport const w = new BrowserWindow({ webPreferences: { nodeIntegration: true, contextIsolation: false, sandbox: false } });\n",
    );
    const { status, out } = scan(scratch);
    expect(out).toMatch(/HIGH\s+\w+\s+CONTEXT_ISOLATION_JS_CHECK/);
    expect(out).toMatch(/security: Electronegativity \d+ checks over .*: \d+ finding\(s\), [1-9]\d* HIGH\./);
    expect(out).not.toMatch(/translations|Fetching Electron/);
    expect(status).toBe(1);
  }, 30_000);
});
