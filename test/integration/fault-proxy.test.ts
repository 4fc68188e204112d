// The fault proxy itself, against a real echo server on loopback: each toxic does what it says
// (latency adds time, slicer keeps every byte, reset_peer and down cut connections, timeout drops).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy';

interface Client {
  socket: Socket;
  received: Buffer[];
  bytes(): Buffer;
  closed: Promise<{ errorCode: string | undefined }>;
}

function openClient(port: number): Promise<Client> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    const received: Buffer[] = [];
    let errorCode: string | undefined;
    socket.on('data', (chunk: Buffer) => received.push(chunk));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      errorCode = error.code;
    });
    const closed = new Promise<{ errorCode: string | undefined }>((done) => socket.once('close', () => done({ errorCode })));
    socket.once('connect', () => resolve({ socket, received, bytes: () => Buffer.concat(received), closed }));
    socket.once('error', reject);
  });
}

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('fault proxy', () => {
  let echo: Server;
  let proxy: FaultProxy;
  const clients: Client[] = [];

  beforeEach(async () => {
    echo = createServer((socket) => {
      socket.on('error', () => undefined);
      socket.pipe(socket);
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    proxy = await startFaultProxy({ upstream: { host: '127.0.0.1', port: (echo.address() as AddressInfo).port } });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.socket.destroy();
    await proxy.close();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  async function client(): Promise<Client> {
    const c = await openClient(proxy.port);
    clients.push(c);
    return c;
  }

  it('forwards both ways without a toxic', async () => {
    const c = await client();
    c.socket.write('hello');
    await waitFor(() => c.bytes().toString() === 'hello');
  });

  it('latency adds the delay in each direction', async () => {
    proxy.setToxic({ type: 'latency', ms: 80 });
    const c = await client();
    const startMs = performance.now();
    c.socket.write('ping');
    await waitFor(() => c.bytes().toString() === 'ping');
    const roundTripMs = performance.now() - startMs;
    expect(roundTripMs).toBeGreaterThanOrEqual(150);
    expect(roundTripMs).toBeLessThan(1500);

    proxy.setToxic({ type: 'latency', ms: 80, stream: 'upstream' });
    const oneWayStart = performance.now();
    c.socket.write('x');
    await waitFor(() => c.bytes().toString() === 'pingx');
    const oneWayMs = performance.now() - oneWayStart;
    expect(oneWayMs).toBeGreaterThanOrEqual(75);
    expect(oneWayMs).toBeLessThan(150);
  });

  it('slicer delivers every byte, in order, in many pieces', async () => {
    proxy.setToxic({ type: 'slicer', avgBytes: 512, sizeVariation: 200, delayUs: 1000 });
    const c = await client();
    const payload = randomBytes(32 * 1024);
    c.socket.write(payload);
    await waitFor(() => c.bytes().length >= payload.length);
    expect(c.bytes().equals(payload)).toBe(true);
    expect(c.received.length).toBeGreaterThan(4);
  });

  it('reset_peer resets the connection after the delay', async () => {
    const c = await client();
    c.socket.write('a');
    await waitFor(() => c.bytes().length === 1);
    const setAtMs = performance.now();
    proxy.setToxic({ type: 'reset_peer', afterMs: 50 });
    const { errorCode } = await c.closed;
    expect(performance.now() - setAtMs).toBeGreaterThanOrEqual(45);
    expect(errorCode).toBe('ECONNRESET');
    expect(proxy.connectionCount()).toBe(0);
  });

  it('timeout drops data while set, and closes after ms when ms > 0', async () => {
    const c = await client();
    proxy.setToxic({ type: 'timeout', ms: 0 });
    c.socket.write('lost');
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(c.bytes().length).toBe(0);
    proxy.setToxic(null);
    c.socket.write('kept');
    await waitFor(() => c.bytes().toString() === 'kept');

    proxy.setToxic({ type: 'timeout', ms: 60 });
    const setAtMs = performance.now();
    await c.closed;
    expect(performance.now() - setAtMs).toBeGreaterThanOrEqual(55);
  });

  it('down closes existing connections and refuses new ones until cleared', async () => {
    const c = await client();
    proxy.setToxic({ type: 'down' });
    await c.closed;
    // Refused: the RST may arrive before or after the client sees its connect.
    const refused = await openClient(proxy.port).then(
      async (c2) => {
        clients.push(c2);
        const { errorCode } = await c2.closed;
        return errorCode ?? 'closed';
      },
      (error: NodeJS.ErrnoException) => error.code ?? 'error',
    );
    expect(['ECONNRESET', 'closed']).toContain(refused);
    proxy.setToxic(null);
    const again = await client();
    again.socket.write('back');
    await waitFor(() => again.bytes().toString() === 'back');
  });
});
