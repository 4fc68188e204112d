// Several libvirt hosts at once, by id. Each connection is independent: one host failing or
// reconnecting never touches another. Holds connections only; it does not poll or act itself.
import type { Clock } from '../clock';
import { HypervisorConnection, type HypervisorConnectionOptions } from './connection';
import type { LibvirtConnector } from './libvirt-like';
import type { LogFn } from './types';

export interface HypervisorRegistryOptions {
  clock: Clock;
  log?: LogFn;
  connector?: LibvirtConnector;
  /** Defaults for every connection added (see HypervisorConnectionOptions). */
  pollIntervalMs?: number;
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
}

export type AddHostOptions = Partial<
  Pick<HypervisorConnectionOptions, 'id' | 'pollIntervalMs' | 'reconnectInitialMs' | 'reconnectMaxMs'>
>;

export class HypervisorRegistry {
  private readonly connections = new Map<string, HypervisorConnection>();
  private nextNumber = 1;

  constructor(private readonly options: HypervisorRegistryOptions) {}

  /** Opens a connection to `uri` and keeps it; resolves to its id. Rejects (keeping nothing) if opening fails. */
  async add(uri: string, options: AddHostOptions = {}): Promise<string> {
    const id = options.id ?? this.freshId();
    if (this.connections.has(id)) throw new Error(`host id ${id} is already in use`);
    const connection = new HypervisorConnection({
      id,
      uri,
      clock: this.options.clock,
      log: this.options.log,
      connector: this.options.connector,
      pollIntervalMs: options.pollIntervalMs ?? this.options.pollIntervalMs,
      reconnectInitialMs: options.reconnectInitialMs ?? this.options.reconnectInitialMs,
      reconnectMaxMs: options.reconnectMaxMs ?? this.options.reconnectMaxMs,
    });
    this.connections.set(id, connection);
    try {
      await connection.open();
    } catch (err) {
      this.connections.delete(id);
      throw err;
    }
    return id;
  }

  /** Closes and forgets a host; unknown ids are ignored. */
  async remove(id: string): Promise<void> {
    const connection = this.connections.get(id);
    if (!connection) return;
    this.connections.delete(id);
    await connection.close();
  }

  get(id: string): HypervisorConnection | undefined {
    return this.connections.get(id);
  }

  list(): HypervisorConnection[] {
    return [...this.connections.values()];
  }

  async closeAll(): Promise<void> {
    const all = this.list();
    this.connections.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  private freshId(): string {
    let id: string;
    do id = `host-${this.nextNumber++}`;
    while (this.connections.has(id));
    return id;
  }
}
