// An in-process fake guest for testing the manager side: it dials the agent port, registers,
// answers collide with the real SHA-256 search and sends heartbeats, with knobs to misbehave.
// Tests only; where the real guest server can run, prefer it (test/support/guest-process.ts).
import { createHash } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { LineFramer, writeMessage } from '../../guest-server/src/ndjson';
import {
  managerToGuestSchema,
  PROTOCOL_VERSION,
  type CollideRequest,
  type ErrorCode,
  type ManagerToGuest,
} from '../../guest-server/src/protocol';

export interface TestGuestKnobs {
  /** Hold collide requests without answering (until `releaseStalled()` or the knob is cleared). */
  stall: boolean;
  /** Answer every collide with this error code instead of a result. */
  errorCode: ErrorCode | null;
  /** Send `load` heartbeats. */
  heartbeats: boolean;
  /** Wait this long before each collide answer, in ms. */
  answerDelayMs: number;
  /** Answer `park` as a guest server from before it existed does (unknown_type) instead of `parked`. */
  parkUnknown: boolean;
}

export interface TestGuestOptions {
  host?: string;
  port: number;
  uuid: string;
  token: string;
  hostname?: string;
  vcpus?: number;
  /** Heartbeat period, in ms. @default 1000 (as the real guest) */
  heartbeatMs?: number;
  /** Send `register` on connect. @default true */
  autoRegister?: boolean;
  knobs?: Partial<TestGuestKnobs>;
}

export class TestGuestRefusedError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The first `String(i)` whose SHA-256 hex digest shares `digits` leading hex characters with the word's. */
export function collideSearch(word: string, digits: number): { match: string; attempts: number } {
  const target = createHash('sha256').update(word).digest('hex').slice(0, digits);
  for (let i = 0; ; i++) {
    const candidate = String(i);
    if (createHash('sha256').update(candidate).digest('hex').startsWith(target)) return { match: candidate, attempts: i + 1 };
  }
}

export class TestGuest {
  readonly knobs: TestGuestKnobs;
  /** Every message received from the manager, in order. */
  readonly received: ManagerToGuest[] = [];
  /** Resolves on `registered`; rejects with TestGuestRefusedError on an error line or a close. */
  readonly registered: Promise<void>;
  /** Resolves when the connection has closed, for whatever reason. */
  readonly closed: Promise<void>;
  collidesAnswered = 0;

  private readonly socket: Socket;
  private readonly held: CollideRequest[] = [];
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private isRegistered = false;
  private isClosed = false;
  private settleRegistration: { resolve(): void; reject(error: Error): void } | null = null;

  constructor(
    private readonly options: TestGuestOptions,
    socket: Socket,
  ) {
    this.socket = socket;
    this.knobs = { stall: false, errorCode: null, heartbeats: true, answerDelayMs: 0, parkUnknown: false, ...options.knobs };
    this.registered = new Promise<void>((resolve, reject) => {
      this.settleRegistration = { resolve, reject };
    });
    // Tests that expect a refusal await it; the others must not see an unhandled rejection.
    this.registered.catch(() => undefined);
    this.closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.once('close', () => {
      this.isClosed = true;
      this.stopHeartbeats();
      this.settleRegistration?.reject(new TestGuestRefusedError('closed', 'connection closed before registration'));
      this.settleRegistration = null;
    });
    socket.on('error', () => undefined);
    const framer = new LineFramer(64 * 1024, (event) => {
      if (event.kind === 'line') this.onLine(event.text);
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    if (options.autoRegister ?? true) this.register();
  }

  get connectionClosed(): boolean {
    return this.isClosed;
  }

  get isRegisteredNow(): boolean {
    return this.isRegistered;
  }

  /** The local port of this guest's connection (what the manager sees as its address). */
  get localPort(): number {
    return this.socket.localPort ?? 0;
  }

  /** Collide requests held by `stall`. */
  heldCount(): number {
    return this.held.length;
  }

  set(knobs: Partial<TestGuestKnobs>): void {
    Object.assign(this.knobs, knobs);
    if (knobs.heartbeats === false) this.stopHeartbeats();
    if (knobs.heartbeats === true && this.isRegistered) this.startHeartbeats();
    if (knobs.stall === false) this.releaseStalled();
  }

  /** Answers held requests now (late, if the manager gave up): all, or `count`; 'reverse' = newest first. */
  releaseStalled(order: 'fifo' | 'reverse' = 'fifo', count = Infinity): void {
    if (order === 'reverse') this.held.reverse();
    const requests = this.held.splice(0, Math.min(count, this.held.length));
    if (order === 'reverse') this.held.reverse();
    for (const request of requests) this.answerCollide(request);
  }

  register(overrides: Record<string, unknown> = {}): void {
    this.send({
      t: 'register',
      uuid: this.options.uuid,
      hostname: this.options.hostname ?? `test-${this.options.uuid.slice(0, 8)}`,
      vcpus: this.options.vcpus ?? 1,
      version: PROTOCOL_VERSION,
      token: this.options.token,
      ...overrides,
    });
  }

  /** Writes a line as given (a newline is added) — for protocol abuse tests. */
  sendRaw(text: string): void {
    if (!this.socket.destroyed) this.socket.write(`${text}\n`);
  }

  send(message: unknown): void {
    writeMessage(this.socket, message);
  }

  sendLoad(): void {
    this.send({ t: 'load', busy: this.held.length > 0 ? 1 : 0, inflight: this.held.length, completed: this.collidesAnswered });
  }

  /** Cuts the connection abruptly (like a crashed guest). */
  drop(): void {
    this.stopHeartbeats();
    this.socket.destroy();
  }

  /** Closes the connection gracefully. */
  async close(): Promise<void> {
    this.stopHeartbeats();
    if (!this.isClosed) this.socket.end();
    await Promise.race([this.closed, new Promise<void>((resolve) => setTimeout(resolve, 500).unref())]);
    this.socket.destroy();
  }

  private onLine(text: string): void {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = managerToGuestSchema.safeParse(value);
    if (!parsed.success) return;
    const message = parsed.data;
    this.received.push(message);
    switch (message.t) {
      case 'registered':
        this.isRegistered = true;
        this.settleRegistration?.resolve();
        this.settleRegistration = null;
        if (this.knobs.heartbeats) this.startHeartbeats();
        return;
      case 'error':
        if (!this.isRegistered) {
          this.settleRegistration?.reject(new TestGuestRefusedError(message.code, message.message));
          this.settleRegistration = null;
        }
        return;
      case 'ping':
        this.send({ t: 'pong', id: message.id });
        return;
      case 'hello':
        this.send({ t: 'hello', id: message.id, version: PROTOCOL_VERSION, uuid: this.options.uuid, vcpus: this.options.vcpus ?? 1, workers: this.options.vcpus ?? 1 });
        return;
      case 'park':
        if (this.knobs.parkUnknown) this.send({ t: 'error', id: message.id, code: 'unknown_type', message: 't: unknown type park' });
        else this.send({ t: 'parked', id: message.id });
        return;
      case 'collide':
        if (this.knobs.stall) this.held.push(message);
        else if (this.knobs.answerDelayMs > 0) setTimeout(() => this.answerCollide(message), this.knobs.answerDelayMs).unref();
        else this.answerCollide(message);
        return;
    }
  }

  private answerCollide(request: CollideRequest): void {
    if (this.knobs.errorCode) {
      this.send({ t: 'error', id: request.id, code: this.knobs.errorCode, message: 'test guest told to fail' });
      return;
    }
    const startMs = performance.now();
    const { match, attempts } = collideSearch(request.word, request.digits);
    this.collidesAnswered++;
    this.send({ t: 'result', id: request.id, match, attempts, ms: performance.now() - startMs });
  }

  private startHeartbeats(): void {
    if (this.heartbeatTimer || this.isClosed) return;
    this.sendLoad();
    this.heartbeatTimer = setInterval(() => this.sendLoad(), this.options.heartbeatMs ?? 1000);
    this.heartbeatTimer.unref();
  }

  private stopHeartbeats(): void {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }
}

/** Connects a fake guest to an agent port; resolves once the TCP connection is up (not registered yet). */
export function startTestGuest(options: TestGuestOptions): Promise<TestGuest> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: options.host ?? '127.0.0.1', port: options.port });
    socket.setNoDelay(true);
    const onError = (error: Error): void => reject(error);
    socket.once('error', onError);
    socket.once('connect', () => {
      socket.off('error', onError);
      resolve(new TestGuest(options, socket));
    });
  });
}

/** Polls a condition every few ms until it holds; throws after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
