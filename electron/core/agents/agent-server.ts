// The manager's agent port: guests dial in, register with their domain UUID and the pool token,
// and then serve requests on the same connection. It admits, tracks and ejects agents; it never
// decides which agent gets work (the balancer does) and never starts or stops domains (the pool does).
import { createHash, timingSafeEqual } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Clock, TimerHandle } from '../clock';
import { LineFramer, writeMessage, type LineEvent } from '../../../guest-server/src/ndjson';
import {
  describeZodError,
  guestToManagerSchema,
  MAX_LINE_BYTES_DEFAULT,
  registerMessageSchema,
  type ErrorCode,
  type LoadMessage,
  type ManagerToGuest,
  type RegisterMessage,
} from '../../../guest-server/src/protocol';
import { Agent, type EjectReason } from './agent';
import { nullLogger, type Logger } from '../metrics/log';

export interface AgentServerOptions {
  clock: Clock;
  /** Address to listen on. @default '127.0.0.1' */
  host?: string;
  /** TCP port to listen on; 0 picks a free one (read it back from `listen()`). @default 0 */
  port?: number;
  /** The pool's shared secret every guest must present in `register`. */
  token: string;
  /** True for the UUID of a pool member this manager started; anything else is refused. */
  isKnownMember: (uuid: string) => boolean;
  /** Eject an agent when no `load` heartbeat arrives for this long, in ms. @default 2000 */
  heartbeatTimeoutMs?: number;
  /** Eject an agent after this many timeouts / internal errors / bad lines in a row. @default 3 */
  maxConsecutiveErrors?: number;
  /** Close a connection that has not sent a valid `register` within this time, in ms. @default 5000 */
  registerTimeoutMs?: number;
  /** Longest line accepted from a guest, in bytes; a longer one closes the connection. @default 65536 */
  maxLineBytes?: number;
  /** Connections (registered or not) held at once; more are closed on arrival. @default 1024 */
  maxConnections?: number;
  /** How long a timed-out request still counts as outstanding, in ms (see AgentOptions). @default 30000 */
  lateAnswerGraceMs?: number;
  /** How long a refused connection may take to read its error before it is cut, in ms. @default 1000 */
  rejectLingerMs?: number;
  /** Structured logger; @default silent */
  log?: Logger;
}

export type AgentRejectCode = ErrorCode | 'register_timeout' | 'too_many_connections';

export interface AgentEjectedEvent {
  uuid: string;
  reason: EjectReason;
  detail: string;
  agent: Agent;
}

export interface AgentRejectedEvent {
  uuid?: string;
  address: string;
  code: AgentRejectCode;
  message: string;
}

export interface AgentLoadEvent {
  uuid: string;
  load: LoadMessage;
}

export type AgentServerEvents = {
  registered: [agent: Agent];
  ejected: [event: AgentEjectedEvent];
  rejected: [event: AgentRejectedEvent];
  load: [event: AgentLoadEvent];
};

interface Connection {
  socket: Socket;
  address: string;
  framer: LineFramer | null;
  agent: Agent | null;
  /** Refused: ignore whatever else it sends while the error drains. */
  refused: boolean;
  registerTimer: TimerHandle | null;
}

function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function formatAddress(socket: Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return `${host.includes(':') ? `[${host}]` : host}:${socket.remotePort ?? 0}`;
}

export class AgentServer extends EventEmitter<AgentServerEvents> {
  private readonly clock: Clock;
  private readonly host: string;
  private readonly port: number;
  private readonly tokenHash: Buffer;
  private readonly isKnownMember: (uuid: string) => boolean;
  private readonly heartbeatTimeoutMs: number;
  private readonly maxConsecutiveErrors: number;
  private readonly registerTimeoutMs: number;
  private readonly maxLineBytes: number;
  private readonly maxConnections: number;
  private readonly lateAnswerGraceMs: number;
  private readonly rejectLingerMs: number;
  private readonly log: Logger;
  private readonly byUuid = new Map<string, Agent>();
  private readonly connections = new Set<Connection>();
  private server: Server | null = null;
  private closing = false;

  constructor(options: AgentServerOptions) {
    super();
    this.clock = options.clock;
    this.host = options.host ?? '127.0.0.1';
    this.port = options.port ?? 0;
    this.tokenHash = tokenDigest(options.token);
    this.isKnownMember = options.isKnownMember;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 2000;
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 3;
    this.registerTimeoutMs = options.registerTimeoutMs ?? 5000;
    this.maxLineBytes = options.maxLineBytes ?? MAX_LINE_BYTES_DEFAULT;
    this.maxConnections = options.maxConnections ?? 1024;
    this.lateAnswerGraceMs = options.lateAnswerGraceMs ?? 30_000;
    this.rejectLingerMs = options.rejectLingerMs ?? 1000;
    this.log = options.log ?? nullLogger;
  }

  /** Starts listening; resolves with the bound address (the real port when `port` was 0). */
  listen(): Promise<{ host: string; port: number }> {
    if (this.server) return Promise.reject(new Error('agent server already listening'));
    const server = createServer((socket) => this.onConnection(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (error: Error): void => {
        this.server = null;
        reject(error);
      };
      server.once('error', onError);
      server.listen(this.port, this.host, () => {
        server.off('error', onError);
        server.on('error', (error) => this.log.error('agent.server_error', { message: error.message }));
        const address = server.address() as AddressInfo;
        this.log.info('agent.server_listening', { host: address.address, port: address.port });
        resolve({ host: address.address, port: address.port });
      });
    });
  }

  /** Stops accepting, closes every connection (pending requests reject with 'closed'). */
  async close(): Promise<void> {
    this.closing = true;
    const server = this.server;
    this.server = null;
    const closed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    for (const agent of [...this.byUuid.values()]) agent.eject('closed', 'agent server closing');
    for (const connection of [...this.connections]) this.dropConnection(connection);
    await closed;
  }

  /** Agents currently registered (ejected ones are gone from this list). */
  agents(): Agent[] {
    return [...this.byUuid.values()];
  }

  agent(uuid: string): Agent | undefined {
    return this.byUuid.get(uuid);
  }

  /** Connections open right now, registered or not. */
  connectionCount(): number {
    return this.connections.size;
  }

  // ---- connections

  private onConnection(socket: Socket): void {
    const address = formatAddress(socket);
    if (this.closing || this.connections.size >= this.maxConnections) {
      socket.destroy();
      const message = this.closing ? 'agent server closing' : `over ${this.maxConnections} connections`;
      this.log.warn('agent.connection_refused', { address, message });
      this.emit('rejected', { address, code: this.closing ? 'shutting_down' : 'too_many_connections', message });
      return;
    }
    socket.setNoDelay(true);
    const connection: Connection = { socket, address, framer: null, agent: null, refused: false, registerTimer: null };
    connection.framer = new LineFramer(this.maxLineBytes, (event) => this.onLine(connection, event));
    connection.registerTimer = this.clock.setTimeout(() => {
      connection.registerTimer = null;
      if (connection.agent || connection.refused) return;
      this.log.warn('agent.register_timeout', { address });
      this.emit('rejected', { address, code: 'register_timeout', message: `no register within ${this.registerTimeoutMs} ms` });
      this.dropConnection(connection);
    }, this.registerTimeoutMs);
    this.connections.add(connection);

    socket.on('data', (chunk: Buffer) => connection.framer?.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.log.debug('agent.socket_error', { address, uuid: connection.agent?.uuid, code: error.code, message: error.message });
    });
    socket.on('close', () => {
      this.connections.delete(connection);
      this.clearRegisterTimer(connection);
      connection.framer?.stop();
      connection.agent?.eject('closed', 'connection closed');
    });
  }

  private onLine(connection: Connection, event: LineEvent): void {
    if (connection.refused) return;
    if (connection.agent) {
      this.onAgentLine(connection.agent, event);
      return;
    }
    if (event.kind === 'too_long') {
      this.refuse(connection, 'line_too_long', `line of ${event.bytes} bytes is over the ${this.maxLineBytes} byte limit`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(event.text);
    } catch {
      this.refuse(connection, 'bad_json', 'the first line must be a JSON register message');
      return;
    }
    const parsed = registerMessageSchema.safeParse(value);
    if (!parsed.success) {
      const isRegister = typeof value === 'object' && value !== null && (value as { t?: unknown }).t === 'register';
      if (isRegister) this.refuse(connection, 'bad_field', `register: ${describeZodError(parsed.error)}`);
      else this.refuse(connection, 'unknown_type', 'the first message must be {"t":"register",…}');
      return;
    }
    this.admit(connection, parsed.data);
  }

  private admit(connection: Connection, register: RegisterMessage): void {
    const { uuid } = register;
    if (!timingSafeEqual(tokenDigest(register.token), this.tokenHash)) {
      this.refuse(connection, 'unauthorized', 'wrong token', uuid);
      return;
    }
    let known = false;
    try {
      known = this.isKnownMember(uuid);
    } catch (error) {
      this.log.error('agent.is_known_member_failed', { uuid, message: error instanceof Error ? error.message : String(error) });
    }
    if (!known) {
      this.refuse(connection, 'unauthorized', `unknown uuid ${uuid}`, uuid);
      return;
    }
    this.clearRegisterTimer(connection);
    const previous = this.byUuid.get(uuid);
    if (previous) previous.eject('replaced', `registered again from ${connection.address}`);

    const { socket } = connection;
    const agent = new Agent({
      clock: this.clock,
      register,
      address: connection.address,
      transport: {
        send: (message: ManagerToGuest) => writeMessage(socket, message),
        close: () => socket.destroy(),
      },
      hooks: {
        onEjected: (ejected, reason, detail) => this.onEjected(ejected, reason, detail),
        onLoad: (from, load) => this.emit('load', { uuid: from.uuid, load }),
      },
      heartbeatTimeoutMs: this.heartbeatTimeoutMs,
      maxConsecutiveErrors: this.maxConsecutiveErrors,
      lateAnswerGraceMs: this.lateAnswerGraceMs,
      log: this.log,
    });
    connection.agent = agent;
    this.byUuid.set(uuid, agent);
    writeMessage(socket, { t: 'registered' } satisfies ManagerToGuest);
    this.log.info('agent.registered', { uuid, hostname: register.hostname, vcpus: register.vcpus, version: register.version, address: connection.address, replaced: previous !== undefined });
    this.emit('registered', agent);
  }

  private onAgentLine(agent: Agent, event: LineEvent): void {
    if (event.kind === 'too_long') {
      agent.eject('protocol', `line of ${event.bytes} bytes is over the ${this.maxLineBytes} byte limit`);
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(event.text);
    } catch {
      agent.noteBadLine('not JSON');
      return;
    }
    const parsed = guestToManagerSchema.safeParse(value);
    if (!parsed.success) {
      agent.noteBadLine(describeZodError(parsed.error));
      return;
    }
    const message = parsed.data;
    switch (message.t) {
      case 'load':
        agent.handleLoad(message);
        return;
      case 'register':
        agent.noteBadLine('register on an already registered connection');
        return;
      default:
        agent.handleAnswer(message);
    }
  }

  private onEjected(agent: Agent, reason: EjectReason, detail: string): void {
    if (this.byUuid.get(agent.uuid) === agent) this.byUuid.delete(agent.uuid);
    const level = reason === 'kicked' || (reason === 'closed' && this.closing) ? 'info' : 'warn';
    this.log[level]('agent.ejected', { uuid: agent.uuid, reason, detail, address: agent.address, outstanding: agent.outstanding });
    this.emit('ejected', { uuid: agent.uuid, reason, detail, agent });
  }

  /** Answers a failed registration with an error line, then closes (cut after a short linger). */
  private refuse(connection: Connection, code: ErrorCode, message: string, uuid?: string): void {
    connection.refused = true;
    connection.framer?.stop();
    this.clearRegisterTimer(connection);
    writeMessage(connection.socket, { t: 'error', id: null, code, message } satisfies ManagerToGuest);
    connection.socket.end();
    const linger = this.clock.setTimeout(() => connection.socket.destroy(), this.rejectLingerMs);
    connection.socket.once('close', () => this.clock.clearTimeout(linger));
    this.log.warn('agent.rejected', { uuid, address: connection.address, code, message });
    this.emit('rejected', { ...(uuid !== undefined ? { uuid } : {}), address: connection.address, code, message });
  }

  private dropConnection(connection: Connection): void {
    this.clearRegisterTimer(connection);
    connection.framer?.stop();
    connection.socket.destroy();
  }

  private clearRegisterTimer(connection: Connection): void {
    if (connection.registerTimer) this.clock.clearTimeout(connection.registerTimer);
    connection.registerTimer = null;
  }
}
