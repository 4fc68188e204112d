// The agent side of the guest: dials the manager, registers, then serves the manager's requests on
// that same connection and sends a `load` heartbeat; redials with capped, jittered backoff whenever
// the connection drops or registration fails. It never applies the client idle timeout.
import { connect } from 'node:net';
import { backoffDelayMs, type BackoffPolicy } from './backoff';
import { LineConnection } from './connection';
import type { HostPort } from './discovery';
import type { Logger } from './log';
import { describeZodError, parkRequestSchema, type LoadMessage, type RegisterMessage } from './protocol';
import { errorAnswer, parseJsonObject, readableId } from './requests';
import type { Session } from './session';
import type { SessionFactory } from './listener';

export interface ManagerLinkOptions {
  /** Called before each dial, so a discovered address (e.g. the gateway) can change. */
  resolveAddress: () => HostPort | null;
  /** The register message to send on each new connection. */
  registerMessage: () => RegisterMessage;
  heartbeatMs: number;
  registerTimeoutMs: number;
  backoff: BackoffPolicy;
  maxLineBytes: number;
  makeSession: SessionFactory;
  load: { sample(): LoadMessage; reset(): void };
  log: Logger;
  random?: () => number;
  /** Called when a dial attempt ends: registered, or failed (no address, refused, dropped, timed out). */
  onDialSettled?: (registered: boolean) => void;
  /** The manager's `park`: it is about to save this guest; answered `parked` once this returns. */
  onPark?: () => void;
}

export type LinkState = 'idle' | 'connecting' | 'registering' | 'registered' | 'waiting' | 'stopped';

export class ManagerLink {
  private stateValue: LinkState = 'idle';
  private connection: LineConnection | null = null;
  private activeSession: Session | null = null;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  private registerTimer: NodeJS.Timeout | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private dialing = true;
  /** The next retry dials at once instead of after a backoff. */
  private redialAtOnce = false;

  constructor(private readonly options: ManagerLinkOptions) {}

  get state(): LinkState {
    return this.stateValue;
  }

  /** The session of the registered connection, if any (for draining). */
  get session(): Session | null {
    return this.activeSession;
  }

  start(): void {
    if (this.stateValue === 'idle') this.dial();
  }

  /** Sends a heartbeat now (when registered), e.g. when the first worker thread is ready. */
  beatNow(): void {
    const connection = this.connection;
    if (!connection || this.stateValue !== 'registered') return;
    this.stopHeartbeat();
    connection.send(this.options.load.sample());
    this.armHeartbeat(connection);
  }

  /**
   * Drops the connection (if any) and dials again at once: its peer is known to be gone, e.g. the
   * VM was restored from a saved image and its connection ended with the QEMU that was saved.
   */
  redialNow(): void {
    if (!this.dialing) return;
    this.failures = 0;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
      this.dial();
      return;
    }
    if (this.connection) {
      this.redialAtOnce = true;
      this.connection.destroy();
    }
  }

  /** No more dialing; a registered connection stays open so that in-flight results still arrive. */
  stopDialing(): void {
    this.dialing = false;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    if (this.stateValue === 'connecting' || this.stateValue === 'registering') this.connection?.destroy();
    if (this.stateValue === 'waiting' || this.stateValue === 'idle') this.stateValue = 'stopped';
  }

  /** Stops dialing and ends the current connection. */
  async close(): Promise<void> {
    this.stopDialing();
    this.stopHeartbeat();
    const connection = this.connection;
    if (connection) await connection.end();
    this.stateValue = 'stopped';
  }

  private dial(): void {
    if (!this.dialing) return;
    const { log } = this.options;
    const address = this.options.resolveAddress();
    if (address === null) {
      log.warn('manager_unknown', { message: 'no manager address: no flag, cmdline, OEM string, fw_cfg entry or default gateway' });
      this.options.onDialSettled?.(false);
      return this.scheduleRetry();
    }
    this.stateValue = 'connecting';
    log.info('manager_dialing', { host: address.host, port: address.port, attempt: this.failures });
    const socket = connect({ host: address.host, port: address.port });
    socket.setKeepAlive(true, 10_000);
    const connection = new LineConnection(socket, this.options.maxLineBytes, {
      onLine: (text) => this.onLine(connection, text),
      onTooLong: (bytes) => {
        log.warn('manager_line_too_long', { bytes });
        connection.send(errorAnswer(null, 'line_too_long', `(line): over ${this.options.maxLineBytes} bytes; closing this connection`));
        connection.destroy();
      },
      onClose: () => this.onClose(connection),
    });
    this.connection = connection;
    socket.on('error', (error) => log.warn('manager_socket_error', { message: error.message }));
    socket.once('connect', () => {
      if (this.connection !== connection) return;
      this.stateValue = 'registering';
      connection.send(this.options.registerMessage());
      this.registerTimer = setTimeout(() => {
        log.warn('register_timeout', { timeoutMs: this.options.registerTimeoutMs });
        connection.destroy();
      }, this.options.registerTimeoutMs);
    });
  }

  private onLine(connection: LineConnection, text: string): void {
    if (this.connection !== connection) return;
    const { log } = this.options;
    if (this.stateValue === 'registering') {
      const parsed = parseJsonObject(text);
      const type = parsed.ok ? parsed.value.t : undefined;
      if (type === 'registered') return this.onRegistered(connection);
      if (type === 'error' && parsed.ok) {
        log.warn('register_refused', { code: parsed.value.code, message: parsed.value.message });
        connection.destroy();
        return;
      }
      log.warn('manager_unexpected', { state: this.stateValue, message: 'a line before registered was ignored' });
      return;
    }
    if (this.stateValue !== 'registered' || !this.activeSession) return;
    // The manager's own notices are logged, never answered (an error for an error could loop).
    const parsed = parseJsonObject(text);
    if (parsed.ok && parsed.value.t === 'error') {
      log.warn('manager_error', { id: parsed.value.id, code: parsed.value.code, message: parsed.value.message });
      return;
    }
    if (parsed.ok && parsed.value.t === 'registered') return;
    if (parsed.ok && parsed.value.t === 'park') return this.onPark(connection, parsed.value);
    this.activeSession.handleLine(text);
  }

  private onPark(connection: LineConnection, message: Record<string, unknown>): void {
    const park = parkRequestSchema.safeParse(message);
    if (!park.success) {
      connection.send(errorAnswer(readableId(message), 'bad_field', `park: ${describeZodError(park.error)}`));
      return;
    }
    this.options.onPark?.();
    connection.send({ t: 'parked', id: park.data.id });
  }

  private onRegistered(connection: LineConnection): void {
    if (this.registerTimer) clearTimeout(this.registerTimer);
    this.registerTimer = null;
    this.stateValue = 'registered';
    this.failures = 0;
    this.options.log.info('registered', { remote: `${connection.socket.remoteAddress ?? '?'}:${connection.socket.remotePort ?? '?'}` });
    this.activeSession = this.options.makeSession((message) => connection.send(message), 'manager');
    this.options.load.reset();
    this.armHeartbeat(connection);
    this.options.onDialSettled?.(true);
  }

  /** Re-arms after each beat (never setInterval), so a stalled loop cannot pile beats up. */
  private armHeartbeat(connection: LineConnection): void {
    this.heartbeatTimer = setTimeout(() => {
      if (this.connection !== connection || this.stateValue !== 'registered') return;
      connection.send(this.options.load.sample());
      this.armHeartbeat(connection);
    }, this.options.heartbeatMs);
  }

  private stopHeartbeat(): void {
    if (this.heartbeatTimer) clearTimeout(this.heartbeatTimer);
    this.heartbeatTimer = null;
  }

  private onClose(connection: LineConnection): void {
    if (this.connection !== connection) return;
    const wasRegistered = this.stateValue === 'registered';
    this.connection = null;
    if (this.registerTimer) clearTimeout(this.registerTimer);
    this.registerTimer = null;
    this.stopHeartbeat();
    // Work for a manager that is gone is dropped: it has retried it elsewhere.
    this.activeSession?.close();
    this.activeSession = null;
    this.options.log.info('manager_disconnected', { wasRegistered });
    if (!wasRegistered) this.options.onDialSettled?.(false);
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.dialing) {
      this.stateValue = 'stopped';
      return;
    }
    this.stateValue = 'waiting';
    const delayMs = this.redialAtOnce ? 0 : backoffDelayMs(this.failures, this.options.backoff, this.options.random);
    this.redialAtOnce = false;
    this.options.log.debug('manager_retry', { delayMs, attempt: this.failures });
    // Counts every attempt since the last registration, so repeated failures back off further.
    this.failures++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.dial();
    }, delayMs);
  }
}
