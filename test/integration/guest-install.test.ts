// guest-server/install.sh into a temporary root: the bundle, the enabled systemd unit and the
// rc.local line land where a VM image needs them, a second run changes nothing, an existing
// rc.local keeps its content with our line before its final `exit 0`, and a missing bundle fails clearly.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ensureGuestBuilt } from '../support/guest-process';

const installScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'guest-server', 'install.sh');
const shells = ['sh', ...(existsSync('/usr/bin/dash') || existsSync('/bin/dash') ? ['dash'] : [])];
const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function tempRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'guest-install-'));
  roots.push(root);
  return root;
}

function install(shell: string, root: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(shell, [installScript, root], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 10_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

function snapshot(root: string): Record<string, string> {
  const files = ['opt/cms/guest-server.js', 'etc/systemd/system/cms-guest.service', 'etc/rc.local'];
  return Object.fromEntries(files.map((file) => [file, createHash('sha256').update(readFileSync(join(root, file))).digest('hex')]));
}

describe.each(shells)('install.sh under %s', (shell) => {
  const bundle = ensureGuestBuilt();

  it('installs the bundle, the enabled unit and the rc.local line, idempotently', () => {
    const root = tempRoot();
    const first = install(shell, root);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);

    // Buffer.equals: a deep toEqual over 800 KB of bytes takes seconds.
    expect(readFileSync(join(root, 'opt/cms/guest-server.js')).equals(readFileSync(bundle))).toBe(true);
    expect(statSync(join(root, 'opt/cms/guest-server.js')).mode & 0o111).not.toBe(0);
    const unit = readFileSync(join(root, 'etc/systemd/system/cms-guest.service'), 'utf8');
    expect(unit).toContain('ExecStart=/usr/bin/node /opt/cms/guest-server.js');
    expect(unit).toContain('WantedBy=multi-user.target');
    expect(readlinkSync(join(root, 'etc/systemd/system/multi-user.target.wants/cms-guest.service'))).toBe('/etc/systemd/system/cms-guest.service');
    const rc = readFileSync(join(root, 'etc/rc.local'), 'utf8');
    expect(rc.startsWith('#!/bin/sh\n')).toBe(true);
    expect(rc.match(/\/opt\/cms\/guest-server\.js/g)).toHaveLength(1);
    expect(statSync(join(root, 'etc/rc.local')).mode & 0o111).not.toBe(0);

    const before = snapshot(root);
    expect(install(shell, root).status).toBe(0);
    expect(snapshot(root)).toEqual(before);
  });

  it('keeps an existing rc.local and puts the line before its final exit 0', () => {
    const root = tempRoot();
    mkdirSync(join(root, 'etc'), { recursive: true });
    writeFileSync(join(root, 'etc/rc.local'), '#!/bin/sh -e\n# site setup\necho hi > /dev/null\nexit 0\n');
    expect(install(shell, root).status).toBe(0);
    const lines = readFileSync(join(root, 'etc/rc.local'), 'utf8').trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['#!/bin/sh -e', '# site setup', 'echo hi > /dev/null']);
    expect(lines[3]).toContain('/opt/cms/guest-server.js');
    expect(lines[4]).toBe('exit 0');
    expect(install(shell, root).status).toBe(0);
    expect(readFileSync(join(root, 'etc/rc.local'), 'utf8').match(/guest-server\.js/g)).toHaveLength(1);
  });

  it('fails clearly when the bundle is missing, and on bad arguments', () => {
    const root = tempRoot();
    const missing = install(shell, root, { CMS_GUEST_JS: join(root, 'nope.js') });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toContain('nope.js not found');
    expect(missing.stderr).toContain('npm run build');
    expect(existsSync(join(root, 'opt'))).toBe(false);

    const noArgs = spawnSync(shell, [installScript], { encoding: 'utf8' });
    expect(noArgs.status).toBe(2);
    expect(noArgs.stderr).toContain('usage');
    expect(install(shell, join(root, 'not-a-dir')).stderr).toContain('not a directory');
  });
});

describe('rc.local', () => {
  it('is valid sh and starts the bundle in the background only where systemd is not running', () => {
    const rcLocal = join(dirname(installScript), 'rc.local');
    expect(spawnSync('sh', ['-n', rcLocal]).status).toBe(0);
    expect(readFileSync(rcLocal, 'utf8')).toMatch(/\[ -d \/run\/systemd\/system \] \|\| \/usr\/bin\/node \/opt\/cms\/guest-server\.js .*&$/m);
  });
});
