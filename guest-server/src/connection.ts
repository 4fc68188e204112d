// One socket carrying JSON lines: frames input with the line cap, writes messages, and stops reading
// while the peer is not reading our answers (so a flood of bad lines cannot grow memory without
// bound). It neither interprets lines nor decides when to close; its owner does.
import type { Socket } from 'node:net';
import { LineFramer, writeMessage } from './ndjson';

export interface LineHandlers {
  onLine(text: string): void;
  /** A line went over the cap; the framer has stopped. */
  onTooLong(bytes: number): void;
  onClose(): void;
}

/** How long a peer may take to close after we ended the connection, before it is destroyed. */
const END_GRACE_MS = 2000;

export class LineConnection {
  private readonly framer: LineFramer;
  private ended = false;

  constructor(
    readonly socket: Socket,
    maxLineBytes: number,
    private readonly handlers: LineHandlers,
  ) {
    this.framer = new LineFramer(maxLineBytes, (event) => {
      if (event.kind === 'line') handlers.onLine(event.text);
      else handlers.onTooLong(event.bytes);
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.framer.push(chunk));
    socket.on('drain', () => {
      if (!this.ended) socket.resume();
    });
    // Errors (resets, EPIPE) are followed by 'close', where the owner cleans up.
    socket.on('error', () => {});
    socket.once('close', () => {
      this.framer.stop();
      handlers.onClose();
    });
  }

  get open(): boolean {
    return !this.socket.destroyed && this.socket.writable;
  }

  send(message: object): void {
    if (!writeMessage(this.socket, message)) return;
    // Backpressure: stop reading requests until the peer has read our answers.
    if (this.socket.writableNeedDrain) this.socket.pause();
  }

  /** Sends what is queued, half-closes, and destroys if the peer does not close in time. */
  end(): Promise<void> {
    return new Promise((resolve) => {
      if (this.socket.destroyed) return resolve();
      this.socket.once('close', () => resolve());
      if (!this.ended) {
        this.ended = true;
        this.framer.stop();
        this.socket.end();
      }
      setTimeout(() => this.socket.destroy(), END_GRACE_MS).unref();
    });
  }

  destroy(): void {
    this.ended = true;
    this.framer.stop();
    this.socket.destroy();
  }
}
