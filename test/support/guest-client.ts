// A small newline-delimited JSON peer for tests: a client of a guest's own port, or the manager
// end of a dialed-in agent connection. It waits for messages by predicate (events, not sleeps) and
// keeps unmatched ones for later; it does not validate the protocol, the tests do.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export type Message = Record<string, unknown>;

interface Waiter {
  predicate: (message: Message) => boolean;
  resolve: (message: Message) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class NdjsonPeer {
  /** Every message received, in order (including ones already taken by next()). */
  readonly received: Message[] = [];
  /** Lines that were not JSON objects. */
  readonly garbage: string[] = [];
  /** Resolves when the socket has closed. */
  readonly closed: Promise<void>;
  private readonly unclaimed: Message[] = [];
  private readonly waiters: Waiter[] = [];
  private partial = '';
  private isClosed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('error', () => {});
    socket.on('data', (chunk: string) => this.onData(chunk));
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.isClosed = true;
        for (const waiter of this.waiters.splice(0)) {
          clearTimeout(waiter.timer);
          waiter.reject(new Error(`connection closed while waiting; received: ${JSON.stringify(this.received.slice(-5))}`));
        }
        resolve();
      });
    });
  }

  static connect(port: number, host = '127.0.0.1'): Promise<NdjsonPeer> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new NdjsonPeer(socket));
      });
      socket.once('error', reject);
    });
  }

  get isOpen(): boolean {
    return !this.isClosed;
  }

  send(message: unknown): void {
    this.socket.write(`${JSON.stringify(message)}\n`);
  }

  sendRaw(data: string | Uint8Array): void {
    this.socket.write(data);
  }

  /** Takes the next message matching `predicate` (default: any), waiting up to timeoutMs. */
  next(predicate: (message: Message) => boolean = () => true, timeoutMs = 10_000): Promise<Message> {
    const at = this.unclaimed.findIndex(predicate);
    if (at >= 0) return Promise.resolve(this.unclaimed.splice(at, 1)[0] as Message);
    if (this.isClosed) return Promise.reject(new Error('connection is closed'));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.splice(this.waiters.indexOf(waiter), 1);
          reject(new Error(`no matching message within ${timeoutMs} ms; last received: ${JSON.stringify(this.received.slice(-5))}`));
        }, timeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Discards received, not yet taken messages matching `predicate` (e.g. stale heartbeats). */
  drop(predicate: (message: Message) => boolean): void {
    for (let at = this.unclaimed.length - 1; at >= 0; at--) if (predicate(this.unclaimed[at] as Message)) this.unclaimed.splice(at, 1);
  }

  /** Sends a request and takes the answer carrying the same id. */
  request(message: Message & { id: unknown }, timeoutMs = 10_000): Promise<Message> {
    const answer = this.next((m) => m.id === message.id, timeoutMs);
    this.send(message);
    return answer;
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }

  private onData(chunk: string): void {
    this.partial += chunk;
    let newline = this.partial.indexOf('\n');
    while (newline >= 0) {
      const line = this.partial.slice(0, newline);
      this.partial = this.partial.slice(newline + 1);
      newline = this.partial.indexOf('\n');
      let message: unknown;
      try {
        message = JSON.parse(line);
      } catch {
        this.garbage.push(line);
        continue;
      }
      if (typeof message !== 'object' || message === null || Array.isArray(message)) {
        this.garbage.push(line);
        continue;
      }
      this.deliver(message as Message);
    }
  }

  private deliver(message: Message): void {
    this.received.push(message);
    const waiter = this.waiters.find((w) => w.predicate(message));
    if (!waiter) {
      this.unclaimed.push(message);
      return;
    }
    this.waiters.splice(this.waiters.indexOf(waiter), 1);
    clearTimeout(waiter.timer);
    waiter.resolve(message);
  }
}

/** A stand-in manager's agent port that takes guests dialing in, in the order they connect. */
export interface DialInPort {
  port: number;
  /** The next guest connection no caller has taken yet, waiting up to timeoutMs for it. */
  nextGuest(timeoutMs?: number): Promise<NdjsonPeer>;
  close(): Promise<void>;
}

export async function listenForGuests(): Promise<DialInPort> {
  const all: NdjsonPeer[] = [];
  const pending: NdjsonPeer[] = [];
  const waiting: Array<(peer: NdjsonPeer) => void> = [];
  const server: Server = createServer((socket) => {
    const peer = new NdjsonPeer(socket);
    all.push(peer);
    const waiter = waiting.shift();
    if (waiter) waiter(peer);
    else pending.push(peer);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    nextGuest: (timeoutMs = 10_000) => {
      const ready = pending.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve, reject) => {
        const waiter = (peer: NdjsonPeer): void => {
          clearTimeout(timer);
          resolve(peer);
        };
        // A waiter that timed out must not swallow the next connection.
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(waiter), 1);
          reject(new Error(`no guest connection within ${timeoutMs} ms`));
        }, timeoutMs);
        waiting.push(waiter);
      });
    },
    close: async () => {
      for (const peer of all) await peer.close();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
