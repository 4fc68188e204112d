// A small fault-injecting TCP proxy for tests, modelled on toxiproxy's toxics (latency, timeout,
// reset_peer, slicer) plus 'down'. One toxic at a time; loopback only; never used outside tests.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';

/** Which direction a toxic applies to: upstream = client → upstream server, downstream = back. */
export type ToxicStream = 'both' | 'upstream' | 'downstream';

export type Toxic =
  /** Delays every chunk by ms ± jitterMs (order kept). */
  | { type: 'latency'; ms: number; jitterMs?: number; stream?: ToxicStream }
  /** Drops all data; closes the connection after ms (never, when ms is 0). */
  | { type: 'timeout'; ms: number; stream?: ToxicStream }
  /** Resets both sides (TCP RST) afterMs after the toxic is set or the connection opens. */
  | { type: 'reset_peer'; afterMs: number }
  /** Cuts data into chunks of about avgBytes (± sizeVariation), delayUs apart. */
  | { type: 'slicer'; avgBytes: number; sizeVariation?: number; delayUs: number; stream?: ToxicStream }
  /** Closes every connection and refuses new ones (they are reset on arrival). */
  | { type: 'down' };

export interface FaultProxyOptions {
  upstream: { host: string; port: number };
  /** Address the proxy listens on. @default '127.0.0.1' */
  host?: string;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  /** Replaces the active toxic (null removes it); existing connections are affected from now on. */
  setToxic(toxic: Toxic | null): void;
  /** Removes the toxic and closes every connection (toxiproxy's reset). */
  resetAll(): void;
  /** Connections open right now. */
  connectionCount(): number;
  close(): Promise<void>;
}

type Direction = 'upstream' | 'downstream';

function applies(toxic: Toxic | null, direction: Direction): boolean {
  if (!toxic || toxic.type === 'reset_peer' || toxic.type === 'down') return false;
  const stream = toxic.stream ?? 'both';
  return stream === 'both' || stream === direction;
}

/** One direction of one connection: chunks leave in order, each at its release time. */
class Link {
  private readonly queue: Array<{ data: Buffer | null; atMs: number }> = [];
  private lastReleaseAtMs = 0;
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;

  constructor(
    private readonly direction: Direction,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly toxic: () => Toxic | null,
  ) {
    from.on('data', (chunk: Buffer) => this.onData(chunk));
    from.on('end', () => this.enqueue(null, performance.now()));
  }

  private onData(chunk: Buffer): void {
    const toxic = this.toxic();
    const nowMs = performance.now();
    const base = Math.max(nowMs, this.lastReleaseAtMs);
    if (!toxic || !applies(toxic, this.direction)) {
      this.enqueue(chunk, base);
      return;
    }
    switch (toxic.type) {
      case 'timeout':
        return; // dropped, as toxiproxy does
      case 'latency': {
        const jitterMs = toxic.jitterMs ?? 0;
        const delayMs = Math.max(0, toxic.ms + (Math.random() * 2 - 1) * jitterMs);
        this.enqueue(chunk, Math.max(nowMs + delayMs, this.lastReleaseAtMs));
        return;
      }
      case 'slicer': {
        let at = base;
        for (let offset = 0; offset < chunk.length; ) {
          const variation = toxic.sizeVariation ?? 0;
          const size = Math.max(1, Math.round(toxic.avgBytes + (Math.random() * 2 - 1) * variation));
          this.enqueue(chunk.subarray(offset, offset + size), at);
          offset += size;
          at += toxic.delayUs / 1000;
        }
        return;
      }
    }
  }

  private enqueue(data: Buffer | null, atMs: number): void {
    this.lastReleaseAtMs = atMs;
    this.queue.push({ data, atMs });
    this.pump();
  }

  private pump(): void {
    if (this.timer) return;
    for (;;) {
      const head = this.queue[0];
      if (!head) return;
      const waitMs = head.atMs - performance.now();
      if (waitMs > 0.5) {
        this.timer = setTimeout(() => {
          this.timer = null;
          this.pump();
        }, waitMs);
        return;
      }
      this.queue.shift();
      if (this.to.destroyed) continue;
      if (head.data === null) {
        this.to.end();
        continue;
      }
      if (!this.to.write(head.data) && !this.waitingForDrain) {
        // Backpressure: stop reading the source until the destination drains.
        this.waitingForDrain = true;
        this.from.pause();
        this.to.once('drain', () => {
          this.waitingForDrain = false;
          this.from.resume();
        });
      }
    }
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

class ProxiedConnection {
  private readonly links: Link[] = [];
  private closeTimer: NodeJS.Timeout | null = null;
  private resetTimer: NodeJS.Timeout | null = null;
  closed = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    toxic: () => Toxic | null,
    private readonly onClosed: (connection: ProxiedConnection) => void,
  ) {
    this.links.push(new Link('upstream', client, upstream, toxic), new Link('downstream', upstream, client, toxic));
    // An error (a reset) ends both sides at once; a clean close lets queued data and the FIN
    // flow through the other link first, and the pair is forgotten once both sides are closed.
    for (const socket of [client, upstream]) {
      socket.on('error', () => this.destroy());
      socket.on('close', () => {
        if (client.destroyed && upstream.destroyed) this.destroy();
      });
    }
    this.onToxic(toxic());
  }

  /** Arms the timers a toxic needs on this connection (close for timeout, RST for reset_peer). */
  onToxic(toxic: Toxic | null): void {
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.resetTimer) clearTimeout(this.resetTimer);
    this.closeTimer = null;
    this.resetTimer = null;
    if (!toxic) return;
    if (toxic.type === 'timeout' && toxic.ms > 0) this.closeTimer = setTimeout(() => this.destroy(), toxic.ms);
    if (toxic.type === 'reset_peer') this.resetTimer = setTimeout(() => this.reset(), toxic.afterMs);
    if (toxic.type === 'down') this.reset();
  }

  reset(): void {
    if (this.closed) return;
    for (const socket of [this.client, this.upstream]) if (!socket.destroyed) socket.resetAndDestroy();
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    if (this.resetTimer) clearTimeout(this.resetTimer);
    for (const link of this.links) link.stop();
    this.client.destroy();
    this.upstream.destroy();
    this.onClosed(this);
  }
}

export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  let toxic: Toxic | null = null;
  const connections = new Set<ProxiedConnection>();
  const pendingSockets = new Set<Socket>();
  const currentToxic = (): Toxic | null => toxic;

  const server = createServer({ pauseOnConnect: true }, (client) => {
    if (toxic?.type === 'down') {
      client.on('error', () => undefined);
      client.resetAndDestroy();
      return;
    }
    client.on('error', () => undefined);
    const upstream = connect({ host: options.upstream.host, port: options.upstream.port });
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    pendingSockets.add(client).add(upstream);
    const forget = (): void => {
      pendingSockets.delete(client);
      pendingSockets.delete(upstream);
    };
    upstream.once('error', () => {
      forget();
      client.destroy();
    });
    upstream.once('connect', () => {
      forget();
      if (client.destroyed) {
        upstream.destroy();
        return;
      }
      const connection = new ProxiedConnection(client, upstream, currentToxic, (closed) => connections.delete(closed));
      connections.add(connection);
      client.resume();
    });
  });

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    host,
    port,
    setToxic(next) {
      toxic = next;
      for (const connection of [...connections]) connection.onToxic(next);
    },
    resetAll() {
      toxic = null;
      for (const connection of [...connections]) connection.destroy();
    },
    connectionCount: () => connections.size,
    async close() {
      toxic = null;
      for (const connection of [...connections]) connection.destroy();
      for (const socket of pendingSockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
