// The guest's own TCP port, for direct clients (nc, tests, a manager that prefers to dial): enforces
// the connection cap, the idle timeout and the line cap, and gives each connection a Session.
// It must never let one connection's misbehaviour (over-long line, reset, flood) touch another.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { LineConnection } from './connection';
import type { HostPort } from './discovery';
import type { Logger } from './log';
import { errorAnswer } from './requests';
import type { Session } from './session';

export interface ListenerOptions {
  listen: HostPort;
  maxConnections: number;
  /** 0 disables the idle timeout. */
  idleTimeoutMs: number;
  maxLineBytes: number;
}

export type SessionFactory = (send: (message: object) => void, label: string) => Session;

class ClientConnection {
  readonly line: LineConnection;
  readonly session: Session;
  private lastInputMs = performance.now();
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(
    socket: Socket,
    private readonly options: ListenerOptions,
    makeSession: SessionFactory,
    private readonly log: Logger,
    private readonly onGone: (connection: ClientConnection) => void,
  ) {
    const label = `client ${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.session = makeSession((message) => this.send(message), label);
    this.line = new LineConnection(socket, options.maxLineBytes, {
      onLine: (text) => {
        this.lastInputMs = performance.now();
        this.session.handleLine(text);
      },
      onTooLong: (bytes) => {
        log.warn('line_too_long', { connection: label, bytes, maxLineBytes: options.maxLineBytes });
        this.session.close();
        this.line.send(errorAnswer(null, 'line_too_long', `(line): over ${options.maxLineBytes} bytes; closing this connection`));
        void this.line.end();
      },
      onClose: () => {
        if (this.idleTimer) clearTimeout(this.idleTimer);
        this.session.close();
        log.debug('client_closed', { connection: label });
        onGone(this);
      },
    });
    if (options.idleTimeoutMs > 0) this.armIdleTimer(options.idleTimeoutMs);
    log.debug('client_connected', { connection: label });
  }

  private send(message: object): void {
    this.line.send(message);
  }

  /** Re-arms itself rather than using a socket timeout: work in flight keeps a connection alive. */
  private armIdleTimer(delayMs: number): void {
    this.idleTimer = setTimeout(() => {
      const idleMs = performance.now() - this.lastInputMs;
      if (this.session.inflightCount > 0 || idleMs < this.options.idleTimeoutMs) {
        return this.armIdleTimer(Math.max(10, this.options.idleTimeoutMs - (this.session.inflightCount > 0 ? 0 : idleMs)));
      }
      this.log.info('client_idle_closed', { connection: this.session.label, idleMs: Math.round(idleMs) });
      void this.line.end();
    }, delayMs);
    this.idleTimer.unref();
  }
}

export class ClientListener {
  private readonly server: Server;
  private readonly connections = new Set<ClientConnection>();
  private accepting = true;

  constructor(
    private readonly options: ListenerOptions,
    makeSession: SessionFactory,
    private readonly log: Logger,
  ) {
    // No half-open connections: a client that shuts its write side (or closes) has given up, and its
    // work is cancelled rather than left running for hours on a peer that will never read the answer.
    this.server = createServer({ allowHalfOpen: false }, (socket) => {
      if (!this.accepting) return socket.destroy();
      if (this.connections.size >= options.maxConnections) return this.refuse(socket);
      const connection = new ClientConnection(socket, options, makeSession, log, (gone) => this.connections.delete(gone));
      this.connections.add(connection);
    });
    this.server.on('error', (error) => log.error('listener_error', { message: error.message }));
  }

  /** Binds and resolves with the real address (port 0 picks a free one). */
  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => reject(error);
      this.server.once('error', onError);
      this.server.listen(this.options.listen.port, this.options.listen.host, () => {
        this.server.off('error', onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get sessions(): Session[] {
    return [...this.connections].map((connection) => connection.session);
  }

  /** Stops taking new connections; the open ones keep being served. */
  stopAccepting(): void {
    if (!this.accepting) return;
    this.accepting = false;
    this.server.close();
  }

  /** Ends every connection (after what is queued to them has been written). */
  async closeAll(): Promise<void> {
    this.stopAccepting();
    await Promise.all([...this.connections].map((connection) => connection.line.end()));
  }

  private refuse(socket: Socket): void {
    this.log.warn('connection_refused', { remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, maxConnections: this.options.maxConnections });
    socket.on('error', () => {});
    const answer = errorAnswer(null, 'busy', `(connection): the guest serves at most ${this.options.maxConnections} connections; try later`);
    socket.end(`${JSON.stringify(answer)}\n`);
    setTimeout(() => socket.destroy(), 1000).unref();
  }
}
