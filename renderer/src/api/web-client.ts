// CmsApi over the web mode's WebSocket (`/ws?token=T`, one JSON message per frame, framing from the
// contract). Every incoming message is parsed with the contract's schemas before anyone sees it;
// pending invokes are rejected when the socket closes; it reconnects with capped backoff unless the
// app refused the token. It takes a WebSocket-like constructor, so it runs in Node tests unchanged.
import {
  commands,
  ContractError,
  describeIssues,
  pushEvents,
  wsServerMessageSchema,
  type CmsApi,
  type CommandInput,
  type CommandName,
  type CommandOutput,
  type PushEventName,
  type PushEventPayload,
  type WsClientMessage,
} from '../../../electron/contract/contract';
import { globalTimers, type ConnectionStatus, type TimerHandle, type Timers } from './connection';

/** What the client needs of a WebSocket; the browser's WebSocket satisfies it as it is. */
export interface WebSocketLike {
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(type: 'open', listener: () => void): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  addEventListener(type: 'close', listener: (event: { code: number; reason: string }) => void): void;
  addEventListener(type: 'error', listener: () => void): void;
}
export type WebSocketCtor = new (url: string) => WebSocketLike;

/** Close codes with which the server says the token (or origin) is not accepted: do not retry. */
export const REFUSED_CLOSE_CODES: readonly number[] = [1008, 4401, 4403];

export interface WebClientOptions {
  /** `ws(s)://host/ws?token=T`. */
  url: string;
  WebSocketImpl: WebSocketCtor;
  /** First reconnect delay, ms; it doubles per failed attempt. @default 500 */
  reconnectInitialMs?: number;
  /** Longest reconnect delay, ms. @default 10000 */
  reconnectMaxMs?: number;
  /** An invoke not answered by then is rejected with code `timeout`, ms. @default 60000 */
  invokeTimeoutMs?: number;
  /** Random factor source for backoff jitter (0-1). @default Math.random */
  random?: () => number;
  timers?: Timers;
  /** Receives JSON-line-shaped warnings (a malformed message, a bad push payload). @default console.warn */
  onWarning?: (entry: { level: 'warn'; event: string; [field: string]: unknown }) => void;
}

export interface CarrierStats {
  messagesIn: number;
  bytesIn: number;
  messagesOut: number;
  bytesOut: number;
}

export interface WebClient extends CmsApi {
  readonly carrier: 'web';
  status(): ConnectionStatus;
  /** Status changes with a human detail; returns the unsubscribe function. */
  onStatus(listener: (status: ConnectionStatus, detail: string | null) => void): () => void;
  /** Counters since start (the UI benchmark reads them). */
  stats(): CarrierStats;
  /** Closes for good: pending invokes are rejected, no reconnect. */
  close(): void;
}

interface Pending {
  channel: CommandName;
  frame: string;
  sent: boolean;
  timer: TimerHandle;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

function isPushEventName(value: string): value is PushEventName {
  return Object.prototype.hasOwnProperty.call(pushEvents, value);
}

/** The socket URL for a page served at `/?token=T`; null when the address carries no token. */
export function socketUrlFromLocation(location: { protocol: string; host: string; search: string }): string | null {
  const token = new URLSearchParams(location.search).get('token');
  if (token === null || token === '') return null;
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws?token=${encodeURIComponent(token)}`;
}

export function createWebClient(options: WebClientOptions): WebClient {
  const timers = options.timers ?? globalTimers;
  const initialMs = options.reconnectInitialMs ?? 500;
  const maxMs = options.reconnectMaxMs ?? 10_000;
  const invokeTimeoutMs = options.invokeTimeoutMs ?? 60_000;
  const random = options.random ?? Math.random;
  const warn = options.onWarning ?? ((entry) => console.warn(JSON.stringify({ ts: new Date().toISOString(), ...entry })));

  const listeners = new Map<PushEventName, Set<(payload: unknown) => void>>();
  const statusListeners = new Set<(status: ConnectionStatus, detail: string | null) => void>();
  const pending = new Map<number, Pending>();
  const stats: CarrierStats = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0 };
  let nextId = 1;
  let socket: WebSocketLike | null = null;
  let open = false;
  let status: ConnectionStatus = 'connecting';
  let attempt = 0;
  let reconnectTimer: TimerHandle | null = null;
  let closedForGood = false;

  const setStatus = (next: ConnectionStatus, detail: string | null): void => {
    status = next;
    for (const listener of statusListeners) listener(next, detail);
  };

  const send = (entry: Pending): void => {
    if (!socket || !open || entry.sent) return;
    entry.sent = true;
    stats.messagesOut += 1;
    stats.bytesOut += entry.frame.length;
    socket.send(entry.frame);
  };

  const rejectAll = (code: string, message: string): void => {
    for (const [id, entry] of pending) {
      timers.clearTimeout(entry.timer);
      pending.delete(id);
      entry.reject(new ContractError(code, `${entry.channel}: ${message}`));
    }
  };

  const onResult = (id: number, result: { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } }): void => {
    const entry = pending.get(id);
    if (!entry) return; // Late answer to an invoke that already timed out.
    pending.delete(id);
    timers.clearTimeout(entry.timer);
    if (!result.ok) {
      entry.reject(new ContractError(result.error.code, result.error.message));
      return;
    }
    const parsed = commands[entry.channel].output.safeParse(result.value);
    if (parsed.success) entry.resolve(parsed.data);
    else entry.reject(new ContractError('bad_response', `${entry.channel}: the app sent an invalid answer: ${describeIssues(parsed.error)}`));
  };

  const onEvent = (event: string, payload: unknown): void => {
    if (!isPushEventName(event)) {
      warn({ level: 'warn', event: 'push_unknown', name: event });
      return;
    }
    const parsed = pushEvents[event].safeParse(payload);
    if (!parsed.success) {
      warn({ level: 'warn', event: 'push_invalid', name: event, issues: describeIssues(parsed.error) });
      return;
    }
    for (const listener of listeners.get(event) ?? []) {
      try {
        listener(parsed.data);
      } catch (error) {
        warn({ level: 'warn', event: 'push_listener_failed', name: event, message: error instanceof Error ? error.message : String(error) });
      }
    }
  };

  const onMessage = (data: unknown): void => {
    if (typeof data !== 'string') {
      warn({ level: 'warn', event: 'message_not_text' });
      return;
    }
    stats.messagesIn += 1;
    stats.bytesIn += data.length;
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      warn({ level: 'warn', event: 'message_not_json', length: data.length });
      return;
    }
    const message = wsServerMessageSchema.safeParse(json);
    if (!message.success) {
      warn({ level: 'warn', event: 'message_invalid', issues: describeIssues(message.error) });
      return;
    }
    if (message.data.kind === 'result') onResult(message.data.id, message.data.result);
    else onEvent(message.data.event, message.data.payload);
  };

  const scheduleReconnect = (): void => {
    const baseMs = Math.min(maxMs, initialMs * 2 ** attempt);
    // Jitter keeps many tabs from reconnecting in lockstep after a restart.
    const delayMs = Math.round(baseMs * (0.5 + 0.5 * random()));
    attempt += 1;
    reconnectTimer = timers.setTimeout(() => {
      reconnectTimer = null;
      connect();
    }, delayMs);
  };

  const connect = (): void => {
    if (closedForGood) return;
    const ws = new options.WebSocketImpl(options.url);
    socket = ws;
    let closed = false;
    ws.addEventListener('open', () => {
      if (socket !== ws) return;
      open = true;
      attempt = 0;
      setStatus('open', null);
      for (const entry of pending.values()) send(entry);
    });
    ws.addEventListener('message', (event) => {
      if (socket === ws) onMessage(event.data);
    });
    ws.addEventListener('error', () => {
      // The close event follows and carries the code; nothing to do here.
    });
    ws.addEventListener('close', (event) => {
      if (closed || socket !== ws) return;
      closed = true;
      open = false;
      socket = null;
      if (closedForGood) return;
      if (REFUSED_CLOSE_CODES.includes(event.code)) {
        closedForGood = true;
        rejectAll('forbidden', `the app refused this page: ${event.reason || `close code ${event.code}`}`);
        setStatus('refused', event.reason || 'the app refused the token');
        return;
      }
      rejectAll('unavailable', 'the connection to the app closed before it answered');
      setStatus('reconnecting', event.reason || `connection closed (code ${event.code})`);
      scheduleReconnect();
    });
  };

  const client: WebClient = {
    carrier: 'web',
    invoke<C extends CommandName>(channel: C, payload: CommandInput<C>): Promise<CommandOutput<C>> {
      return new Promise<CommandOutput<C>>((resolve, reject) => {
        if (closedForGood) {
          reject(new ContractError(status === 'refused' ? 'forbidden' : 'unavailable', `${channel}: not connected to the app`));
          return;
        }
        const id = nextId++;
        const frame: WsClientMessage = { kind: 'invoke', id, channel, payload };
        const entry: Pending = {
          channel,
          frame: JSON.stringify(frame),
          sent: false,
          timer: timers.setTimeout(() => {
            pending.delete(id);
            reject(new ContractError('timeout', `${channel}: no answer from the app within ${invokeTimeoutMs} ms`));
          }, invokeTimeoutMs),
          resolve: (value) => resolve(value as CommandOutput<C>),
          reject,
        };
        pending.set(id, entry);
        send(entry);
      });
    },
    on<E extends PushEventName>(event: E, listener: (payload: PushEventPayload<E>) => void): () => void {
      // Payloads reach listeners only after pushEvents[event] parsed them, so the cast is the schema's type.
      const wrapped = (payload: unknown): void => listener(payload as PushEventPayload<E>);
      let set = listeners.get(event);
      if (!set) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(wrapped);
      return () => {
        listeners.get(event)?.delete(wrapped);
      };
    },
    status: () => status,
    onStatus(listener) {
      statusListeners.add(listener);
      return () => statusListeners.delete(listener);
    },
    stats: () => ({ ...stats }),
    close() {
      if (closedForGood && status === 'closed') return;
      closedForGood = true;
      if (reconnectTimer !== null) timers.clearTimeout(reconnectTimer);
      reconnectTimer = null;
      const ws = socket;
      socket = null;
      open = false;
      rejectAll('unavailable', 'the client was closed');
      setStatus('closed', null);
      ws?.close(1000, 'client closed');
    },
  };

  connect();
  return client;
}
