// The web mode's WebSocket client over a fake WebSocket-like object: invokes answered by id and
// parsed by the contract, errors thrown with their code, pushes parsed (bad ones dropped), pending
// invokes rejected on close, reconnect with capped backoff, a refused token not retried.
import { describe, expect, it } from 'vitest';
import { ContractError, type WsClientMessage } from '../../electron/contract/contract';
import { ManualClock, type TimerHandle } from '../../electron/core/clock';
import type { ConnectionStatus, Timers } from '../../renderer/src/api/connection';
import { createWebClient, socketUrlFromLocation, type WebSocketLike } from '../../renderer/src/api/web-client';

type Listener = (event: never) => void;

/** Records what the client sends; the test plays the server. */
class FakeSocket implements WebSocketLike {
  static instances: FakeSocket[] = [];
  readonly sent: WsClientMessage[] = [];
  private readonly listeners = new Map<string, Listener[]>();
  closedWith: number | null = null;

  constructor(readonly url: string) {
    FakeSocket.instances.push(this);
  }

  send(data: string): void {
    this.sent.push(JSON.parse(data) as WsClientMessage);
  }

  close(code = 1000): void {
    this.closedWith = code;
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  private fire(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) (listener as (event: unknown) => void)(event);
  }

  serverOpen(): void {
    this.fire('open', {});
  }

  serverSend(message: unknown): void {
    this.fire('message', { data: typeof message === 'string' ? message : JSON.stringify(message) });
  }

  serverClose(code: number, reason = ''): void {
    this.fire('close', { code, reason });
  }
}

function setup(options: { invokeTimeoutMs?: number } = {}) {
  FakeSocket.instances = [];
  const clock = new ManualClock(0);
  const timers: Timers = { setTimeout: (callback, delayMs) => clock.setTimeout(callback, delayMs), clearTimeout: (handle) => clock.clearTimeout(handle as TimerHandle) };
  const warnings: Array<{ event: string }> = [];
  const statuses: Array<[ConnectionStatus, string | null]> = [];
  const client = createWebClient({
    url: 'ws://127.0.0.1:1/ws?token=t',
    WebSocketImpl: FakeSocket,
    timers,
    random: () => 1,
    reconnectInitialMs: 500,
    reconnectMaxMs: 4_000,
    ...(options.invokeTimeoutMs ? { invokeTimeoutMs: options.invokeTimeoutMs } : {}),
    onWarning: (entry) => warnings.push(entry),
  });
  client.onStatus((status, detail) => statuses.push([status, detail]));
  const socket = (): FakeSocket => {
    const last = FakeSocket.instances.at(-1);
    if (!last) throw new Error('no socket');
    return last;
  };
  return { client, clock, warnings, statuses, socket };
}

const hostView = { id: 'h1', uri: 'test:///x', status: 'connected', hostname: null, cpus: null, memoryKiB: null, lastError: null, sandbox: true };

describe('web client', () => {
  it('builds the socket URL from the page address', () => {
    expect(socketUrlFromLocation({ protocol: 'http:', host: '127.0.0.1:8080', search: '?token=a%2Bb' })).toBe('ws://127.0.0.1:8080/ws?token=a%2Bb');
    expect(socketUrlFromLocation({ protocol: 'https:', host: 'box:443', search: '?token=x' })).toBe('wss://box:443/ws?token=x');
    expect(socketUrlFromLocation({ protocol: 'http:', host: 'box', search: '' })).toBeNull();
  });

  it('queues an invoke until the socket opens, then resolves it with the parsed answer', async () => {
    const { client, socket, statuses } = setup();
    const answer = client.invoke('pool:scale', { count: 3 });
    expect(socket().sent).toEqual([]);
    socket().serverOpen();
    expect(statuses.at(-1)).toEqual(['open', null]);
    const frame = socket().sent[0];
    expect(frame).toMatchObject({ kind: 'invoke', channel: 'pool:scale', payload: { count: 3 } });
    socket().serverSend({ kind: 'result', id: frame?.id, result: { ok: true, value: { desired: 3 } } });
    await expect(answer).resolves.toEqual({ desired: 3 });
    expect(client.stats()).toMatchObject({ messagesIn: 1, messagesOut: 1 });
  });

  it('answers out of order by id, and throws the app error with its code', async () => {
    const { client, socket } = setup();
    socket().serverOpen();
    const first = client.invoke('domain:xml', { hostId: 'h1', uuid: 'u1' });
    const second = client.invoke('host:remove', { hostId: 'h1' });
    const [a, b] = socket().sent;
    socket().serverSend({ kind: 'result', id: b?.id, result: { ok: false, error: { code: 'invalid_state', message: 'host h1 still holds pool members' } } });
    socket().serverSend({ kind: 'result', id: a?.id, result: { ok: true, value: '<domain/>' } });
    await expect(first).resolves.toBe('<domain/>');
    const error = await second.catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(ContractError);
    expect(error).toMatchObject({ code: 'invalid_state', message: 'host h1 still holds pool members' });
  });

  it('rejects an answer that does not match the command output schema', async () => {
    const { client, socket } = setup();
    socket().serverOpen();
    const answer = client.invoke('pool:scale', { count: 1 });
    socket().serverSend({ kind: 'result', id: socket().sent[0]?.id, result: { ok: true, value: { desired: 'many' } } });
    await expect(answer).rejects.toMatchObject({ code: 'bad_response' });
  });

  it('delivers parsed pushes and drops malformed ones with a warning', () => {
    const { client, socket, warnings } = setup();
    const errors: string[] = [];
    const progress: number[] = [];
    const off = client.on('notify:error', (note) => errors.push(`${note.vm}: ${note.message}`));
    client.on('quit:progress', (p) => progress.push(p.done));
    socket().serverOpen();
    socket().serverSend({ kind: 'event', event: 'notify:error', payload: { title: 'start failed', message: 'libvirt: no', vm: 'web-frontend' } });
    socket().serverSend({ kind: 'event', event: 'notify:error', payload: { title: 'missing message' } });
    socket().serverSend({ kind: 'event', event: 'quit:progress', payload: { done: 2, total: 3, finished: false } });
    socket().serverSend({ kind: 'event', event: 'nobody:knows', payload: {} });
    socket().serverSend('{not json');
    socket().serverSend({ kind: 'what' });
    off();
    socket().serverSend({ kind: 'event', event: 'notify:error', payload: { title: 't', message: 'after off', vm: null } });
    expect(errors).toEqual(['web-frontend: libvirt: no']);
    expect(progress).toEqual([2]);
    expect(warnings.map((w) => w.event)).toEqual(['push_invalid', 'push_unknown', 'message_not_json', 'message_invalid']);
  });

  it('parses state pushes with the full AppState schema', () => {
    const { client, socket, warnings } = setup();
    const hosts: string[] = [];
    client.on('state:update', (state) => hosts.push(...state.hosts.map((h) => h.id)));
    socket().serverOpen();
    socket().serverSend({ kind: 'event', event: 'state:update', payload: { hosts: [hostView] } });
    expect(hosts).toEqual([]);
    expect(warnings[0]?.event).toBe('push_invalid');
  });

  it('rejects pending invokes when the socket closes, then reconnects with growing, capped delays', async () => {
    const { client, socket, clock, statuses } = setup();
    socket().serverOpen();
    const pending = client.invoke('state:get', {});
    socket().serverClose(1006);
    await expect(pending).rejects.toMatchObject({ code: 'unavailable' });
    expect(statuses.at(-1)?.[0]).toBe('reconnecting');

    const delays: number[] = [];
    for (let attempt = 0; attempt < 5; attempt++) {
      const before = FakeSocket.instances.length;
      let waitedMs = 0;
      while (FakeSocket.instances.length === before) {
        clock.advance(100);
        waitedMs += 100;
      }
      delays.push(waitedMs);
      socket().serverClose(1006);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 4000]);

    // A successful open resets the backoff, and queued invokes go out on it.
    clock.advance(4_000);
    socket().serverOpen();
    const again = client.invoke('events:export', {});
    socket().serverSend({ kind: 'result', id: socket().sent[0]?.id, result: { ok: true, value: '' } });
    await expect(again).resolves.toBe('');
    socket().serverClose(1006);
    const before = FakeSocket.instances.length;
    clock.advance(500);
    expect(FakeSocket.instances.length).toBe(before + 1);
  });

  it('stops for good when the app refuses the token', async () => {
    const { client, socket, clock, statuses } = setup();
    const pending = client.invoke('state:get', {});
    socket().serverClose(4401, 'wrong token');
    await expect(pending).rejects.toMatchObject({ code: 'forbidden' });
    expect(statuses.at(-1)).toEqual(['refused', 'wrong token']);
    clock.advance(60_000);
    expect(FakeSocket.instances.length).toBe(1);
    await expect(client.invoke('state:get', {})).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('times out an invoke nobody answers, and ignores the late answer', async () => {
    const { client, socket, clock } = setup({ invokeTimeoutMs: 1_000 });
    socket().serverOpen();
    const pending = client.invoke('load:pause', {});
    clock.advance(1_000);
    await expect(pending).rejects.toMatchObject({ code: 'timeout' });
    socket().serverSend({ kind: 'result', id: socket().sent[0]?.id, result: { ok: true, value: null } });
  });

  it('close() rejects what is pending, closes the socket and never reconnects', async () => {
    const { client, socket, clock, statuses } = setup();
    socket().serverOpen();
    const pending = client.invoke('state:get', {});
    client.close();
    await expect(pending).rejects.toMatchObject({ code: 'unavailable' });
    expect(socket().closedWith).toBe(1000);
    socket().serverClose(1000);
    clock.advance(60_000);
    expect(FakeSocket.instances.length).toBe(1);
    expect(statuses.at(-1)?.[0]).toBe('closed');
  });
});
