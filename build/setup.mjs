#!/usr/bin/env node
// One-step set-up that `npm start`, `npm test` and `npm run bench` run first: system packages,
// `npm ci` when node_modules is missing or stale, then the build. Plain Node with no dependencies,
// because it runs before node_modules exists. A second run with nothing changed takes about a second.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const purpose = process.argv[2] ?? 'start';
const purposes = ['start', 'test', 'bench', 'kvm'];
if (!purposes.includes(purpose)) {
  console.error(`setup: unknown purpose '${purpose}' (expected one of: ${purposes.join(', ')})`);
  process.exit(2);
}

/** Debian packages each purpose needs; libvirt-dev and the build tools compile @unraid/libvirt. */
const basePackages = ['libvirt-dev', 'libvirt-clients', 'pkg-config', 'build-essential', 'python3'];
/**
 * Real VMs (test/kvm, the kvm bench): libvirtd + QEMU, and the tools the guest-image build runs
 * (qemu-user makes its Node start-up snapshot for the CPU members emulate).
 */
const kvmPackages = ['libvirt-daemon', 'libvirt-daemon-driver-qemu', 'qemu-system-x86', 'qemu-utils', 'qemu-user', 'cpio', 'lz4', 'xz-utils'];
const packagesFor = {
  start: basePackages,
  test: [...basePackages, 'chromium', 'openssl', ...kvmPackages],
  bench: [...basePackages, 'chromium', 'openssl', ...kvmPackages],
  kvm: [...basePackages, ...kvmPackages],
};

function say(message) {
  console.log(`[setup] ${message}`);
}

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root, ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function hasCommand(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function missingDebianPackages(packages) {
  const result = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Abbrev}\n', ...packages], { encoding: 'utf8' });
  const installed = new Set(
    result.stdout
      .split('\n')
      .filter((line) => /\sii\s*$/.test(line))
      .map((line) => line.split(' ')[0].split(':')[0]),
  );
  return packages.filter((name) => !installed.has(name));
}

function ensureSystemPackages() {
  if (!hasCommand('dpkg-query')) {
    say('not a Debian-family system: install libvirt development headers, pkg-config and a C++ toolchain yourself.');
    return;
  }
  const missing = missingDebianPackages(packagesFor[purpose]);
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!isRoot) {
    console.error(`[setup] missing Debian packages: ${missing.join(' ')}`);
    console.error(`[setup] run this, then try again:\n  sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  say(`installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  if (run('apt-get', ['update', '-qq'], { env }) !== 0) say('apt-get update failed; trying the install with the lists we have');
  if (run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], { env }) !== 0) {
    console.error(`[setup] apt-get install failed for: ${missing.join(' ')}`);
    process.exit(1);
  }
}

function mtimeMs(path) {
  return existsSync(path) ? statSync(path).mtimeMs : 0;
}

function ensureNodeModules() {
  const lockfile = join(root, 'package-lock.json');
  const installedMarker = join(root, 'node_modules', '.package-lock.json');
  if (existsSync(installedMarker) && mtimeMs(installedMarker) >= mtimeMs(lockfile)) return;
  say('installing npm dependencies (npm ci)');
  const first = spawnSync('npm', ['ci'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  process.stdout.write(first.stdout ?? '');
  if (first.status === 0) return;
  // npm's stack traces say nothing to a user; its summary lines say what failed.
  const summary = (first.stderr ?? '').split('\n').filter((line) => !/^npm error\s{3,}at /.test(line));
  process.stderr.write(summary.join('\n'));
  say('npm ci failed, most likely because the Electron binary could not be downloaded (offline?).');
  say('retrying with ELECTRON_SKIP_BINARY_DOWNLOAD=1: the app will open in a browser (web mode) instead of a desktop window.');
  const env = { ...process.env, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  if (run('npm', ['ci'], { env }) !== 0) {
    console.error('[setup] npm ci failed even without the Electron binary; see the output above.');
    process.exit(1);
  }
}

function build() {
  if (run(process.execPath, [join(root, 'build', 'build.mjs')]) !== 0) {
    console.error('[setup] build failed');
    process.exit(1);
  }
}

const startedMs = Date.now();
ensureSystemPackages();
ensureNodeModules();
build();
say(`ready for '${purpose}' in ${((Date.now() - startedMs) / 1000).toFixed(1)} s`);
