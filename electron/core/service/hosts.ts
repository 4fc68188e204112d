// Opens the hosts a control plane runs on: a libvirt connection per URI, and for sandbox
// (test:///) hosts the simulated-guest runtime beside it. Knows nothing of pools or load.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Clock } from '../clock';
import type { HypervisorConnection } from '../hypervisor/connection';
import { HypervisorRegistry } from '../hypervisor/registry';
import { kvmHostBinding } from '../kvm/binding';
import type { LogFn } from '../hypervisor/types';
import type { LibvirtConnector } from '../hypervisor/libvirt-like';
import type { Logger } from '../metrics/log';
import { SavedImageDir } from '../pool/saved-image-dir';
import { SandboxGuestRuntime } from '../sandbox/guest-runtime';
import { prepareSandboxHost, sandboxUri } from '../sandbox/sandbox-host';
import type { ControlPlaneHost } from './control-plane';

export interface OpenHostsOptions {
  /** libvirt URIs; empty means the built-in sandbox. */
  uris: string[];
  clock: Clock;
  log: Logger;
  /** Pool token handed to simulated guests; read at each spawn. */
  token: () => string;
  sandbox: { bootDelayMs: number; hashRatePerVcpu: number };
  /** Poll period of every connection, ms. @default 1000 */
  pollIntervalMs?: number;
  /** Path of the one-file guest server, for sandbox guests. @default found from the repository root */
  guestScript?: string;
  /** Makes libvirt handles; tests wrap the real one to inject connection loss. */
  connector?: LibvirtConnector;
}

export interface OpenedHosts {
  registry: HypervisorRegistry;
  /** The open hosts, in the order added (a live array). */
  hosts: ControlPlaneHost[];
  /** Opens one more host; rejects, keeping nothing, when it cannot be opened. */
  add(uri: string): Promise<ControlPlaneHost>;
  /** Closes one host (stopping its simulated guests). */
  remove(hostId: string): Promise<void>;
  /** Tells the sandbox runtimes where guests dial in (known once the agent port listens). */
  setManagerAddress(address: { host: string; port: number }): void;
  close(): Promise<void>;
}

export function isSandboxUri(uri: string): boolean {
  return uri.startsWith('test://');
}

/** Finds guest-server/dist/guest-server.js from this module's location (sources or bundle). */
export function defaultGuestScript(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 8; i++) {
    const candidate = join(dir, 'guest-server', 'dist', 'guest-server.js');
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  throw new Error('guest-server/dist/guest-server.js not found: run `npm run build` first');
}

/** Adapts the core Logger to the hypervisor's log function shape. */
export function logFnFrom(log: Logger): LogFn {
  return (level, event, fields) => log[level](event, fields);
}

export async function openHosts(options: OpenHostsOptions): Promise<OpenedHosts> {
  const logFn = logFnFrom(options.log);
  const registry = new HypervisorRegistry({ clock: options.clock, log: logFn, pollIntervalMs: options.pollIntervalMs ?? 1000, connector: options.connector });
  let manager = { host: '127.0.0.1', port: 0 };
  const hosts: ControlPlaneHost[] = [];
  // Sandbox "memory images" are the test driver's small files; they live only as long as this process.
  const sandboxSavedDir = join(tmpdir(), `cms-sandbox-saved-${process.pid}`);

  /** Real hosts: linked-clone overlays (local URIs) and each member's manager address + token. */
  function realHostBinding(connection: HypervisorConnection): ControlPlaneHost {
    return { host: connection, ...kvmHostBinding({ uri: connection.uri, manager: () => manager }) };
  }

  async function sandboxHostBinding(connection: HypervisorConnection, uri: string): Promise<ControlPlaneHost> {
    await prepareSandboxHost(connection);
    // A new test-driver connection starts from the file again: put the template back at rest.
    connection.on('status', (event) => {
      if (event.status === 'connected') void prepareSandboxHost(connection).catch((error: unknown) => options.log.warn('sandbox_prepare_failed', { uri, message: String(error) }));
    });
    const runtime = new SandboxGuestRuntime({
      connection,
      guestScript: options.guestScript ?? defaultGuestScript(),
      bootDelayMs: options.sandbox.bootDelayMs,
      hashRatePerVcpu: options.sandbox.hashRatePerVcpu,
      manager: () => manager,
      token: options.token,
      clock: options.clock,
      log: logFn,
    });
    options.log.info('sandbox_host_opened', {
      uri,
      simulated: true,
      note: 'sandbox VMs are simulated: libvirt test-driver domains with a local guest-server process each, throttled per vCPU',
    });
    return { host: connection, runtime, savedImages: new SavedImageDir(sandboxSavedDir), stopGuests: () => runtime.stopAll() };
  }

  async function add(uri: string): Promise<ControlPlaneHost> {
    const id = await registry.add(uri);
    const connection = registry.get(id);
    if (!connection) throw new Error(`host ${uri} vanished after opening`);
    try {
      const binding = isSandboxUri(uri) ? await sandboxHostBinding(connection, uri) : realHostBinding(connection);
      hosts.push(binding);
      return binding;
    } catch (error) {
      await registry.remove(id);
      throw error;
    }
  }

  async function remove(hostId: string): Promise<void> {
    const index = hosts.findIndex((binding) => binding.host.id === hostId);
    if (index < 0) return;
    const [binding] = hosts.splice(index, 1);
    await binding?.stopGuests?.();
    await registry.remove(hostId);
  }

  async function close(): Promise<void> {
    await Promise.all(hosts.map((binding) => binding.stopGuests?.()));
    hosts.length = 0;
    await registry.closeAll();
    await rm(sandboxSavedDir, { recursive: true, force: true });
  }

  try {
    for (const uri of options.uris.length > 0 ? options.uris : [sandboxUri()]) await add(uri);
  } catch (error) {
    await close();
    throw error;
  }
  return {
    registry,
    hosts,
    add,
    remove,
    setManagerAddress(address) {
      manager = address;
    },
    close,
  };
}
