// Where the sandbox host file lives, its libvirt URI, and the one fix-up it needs after opening.
// SIMULATED host: libvirt's in-process test driver; nothing here may touch a real hypervisor.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DomainSnapshot, HypervisorConnection } from '../hypervisor';

export const SANDBOX_HOST_FILE = 'sandbox-host.xml';
/** Name of the template domain in sandbox-host.xml. */
export const SANDBOX_TEMPLATE_NAME = 'cms-template';
/** Names of the unrelated domains shipped in sandbox-host.xml (they stay running, the app never manages them). */
export const SANDBOX_OTHER_DOMAINS = ['web-frontend', 'db-primary', 'build-runner'] as const;

export class SandboxHostError extends Error {
  override readonly name = 'SandboxHostError';
  constructor(
    readonly code: 'host_file_missing' | 'template_missing',
    message: string,
  ) {
    super(message);
  }
}

function findRepoRoot(fromDir: string): string | undefined {
  let dir = fromDir;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

/**
 * Absolute path of sandbox-host.xml. Looks next to this module first (TS sources under vitest/tsx,
 * or a copy placed beside a bundle), then at electron/core/sandbox/ under the nearest package.json
 * (the esbuild bundle dist/cli/cms.js run from a checkout).
 */
export function sandboxHostPath(): string {
  const moduleDir = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(moduleDir, SANDBOX_HOST_FILE)];
  const root = findRepoRoot(moduleDir);
  if (root) candidates.push(join(root, 'electron', 'core', 'sandbox', SANDBOX_HOST_FILE), join(root, 'dist', SANDBOX_HOST_FILE));
  const found = candidates.find((p) => existsSync(p));
  if (!found) {
    throw new SandboxHostError('host_file_missing', `sandbox host file not found; looked in: ${candidates.join(', ')}`);
  }
  return found;
}

/** libvirt test-driver URI for a host file: `test://` + absolute path (so `test:///abs/…`). */
export function sandboxUri(path: string = sandboxHostPath()): string {
  return `test://${resolve(path)}`;
}

/**
 * Makes a freshly opened sandbox connection look like a host at rest: the template shut off (forced,
 * since the test driver may start every domain), the other domains left running. Idempotent; call it
 * again after a reconnect, because a new test-driver connection starts from the file again.
 */
export async function prepareSandboxHost(conn: HypervisorConnection): Promise<DomainSnapshot> {
  const host = await conn.pollNow();
  const template = host.domains.find((d) => d.name === SANDBOX_TEMPLATE_NAME);
  if (!template) {
    throw new SandboxHostError('template_missing', `sandbox host ${conn.uri} has no domain named ${SANDBOX_TEMPLATE_NAME}`);
  }
  if (template.state !== 'shutoff') await conn.domainForceOff(template.uuid);
  const after = await conn.domainLookup(template.uuid);
  if (!after) throw new SandboxHostError('template_missing', `template ${SANDBOX_TEMPLATE_NAME} vanished from ${conn.uri}`);
  return after;
}
