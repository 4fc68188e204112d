// The benchmark's baseline: a minimal pipelined TCP client that speaks the guest protocol straight
// to a guest's own listening port — one connection, ids matched to answers, nothing else (no
// validation, no timers, no retries). It is a yardstick, not a client for the application.
import { connect, type Socket } from 'node:net';

/** Called once per request: true for a `result`, false for an error answer or a lost connection. */
export type DoneCallback = (ok: boolean) => void;

export class DirectClient {
  private readonly pending = new Map<number, DoneCallback>();
  private nextId = 1;
  private partial = '';

  private constructor(private readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => this.failAll());
  }

  static connect(port: number, host = '127.0.0.1'): Promise<DirectClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ port, host });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new DirectClient(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Requests sent and not answered yet. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Sends one collide request (one write per request, as the agent connection does). */
  collide(word: string, digits: number, done: DoneCallback): void {
    if (this.socket.destroyed) {
      done(false);
      return;
    }
    const id = this.nextId++;
    this.pending.set(id, done);
    this.socket.write(`{"t":"collide","id":${id},"word":${JSON.stringify(word)},"digits":${digits}}\n`);
  }

  close(): void {
    this.socket.destroy();
    this.failAll();
  }

  private onData(chunk: string): void {
    const text = this.partial + chunk;
    let start = 0;
    for (let newline = text.indexOf('\n'); newline !== -1; newline = text.indexOf('\n', start)) {
      const line = text.slice(start, newline);
      start = newline + 1;
      let message: { t?: unknown; id?: unknown };
      try {
        message = JSON.parse(line) as { t?: unknown; id?: unknown };
      } catch {
        continue;
      }
      if (typeof message.id !== 'number') continue;
      const done = this.pending.get(message.id);
      if (!done) continue;
      this.pending.delete(message.id);
      done(message.t === 'result');
    }
    this.partial = text.slice(start);
  }

  private failAll(): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const done of waiting) done(false);
  }
}
