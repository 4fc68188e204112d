// Newline-delimited JSON framing over a byte stream, with a hard cap on line length.
// Shared by the guest server and the manager's agent connections; it never throws on bad input.
import type { Socket } from 'node:net';

/** What a framer hands its owner for each complete line. */
export type LineEvent =
  | { kind: 'line'; text: string }
  /** A line exceeded `maxLineBytes`: the owner answers once and closes the connection. */
  | { kind: 'too_long'; bytes: number };

/**
 * Splits incoming chunks into lines. Bytes are buffered until a `\n` arrives; a line longer
 * than `maxLineBytes` (not counting the newline) is reported once and the framer stops.
 */
export class LineFramer {
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private stopped = false;

  constructor(
    private readonly maxLineBytes: number,
    private readonly onEvent: (event: LineEvent) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) break;
      const piece = chunk.subarray(start, newline);
      const total = this.bufferedBytes + piece.length;
      if (total > this.maxLineBytes) return this.overflow(total);
      const line = this.chunks.length === 0 ? piece : Buffer.concat([...this.chunks, piece], total);
      this.chunks = [];
      this.bufferedBytes = 0;
      // A trailing \r is tolerated so that `nc -C` and telnet users are served too.
      let text = line.toString('utf8');
      if (text.endsWith('\r')) text = text.slice(0, -1);
      this.onEvent({ kind: 'line', text });
      if (this.stopped) return;
      start = newline + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length === 0) return;
    if (this.bufferedBytes + rest.length > this.maxLineBytes) return this.overflow(this.bufferedBytes + rest.length);
    // Copy: the socket may reuse its buffer.
    this.chunks.push(Buffer.from(rest));
    this.bufferedBytes += rest.length;
  }

  stop(): void {
    this.stopped = true;
    this.chunks = [];
    this.bufferedBytes = 0;
  }

  private overflow(bytes: number): void {
    this.stop();
    this.onEvent({ kind: 'too_long', bytes });
  }
}

/** Sockets corked until the end of the current tick. */
const corked = new WeakSet<Socket>();

/**
 * Writes one message as a JSON line. Returns false when the socket is no longer writable.
 * Messages written in the same tick leave in one system call: the socket is corked on the first
 * write of a tick and uncorked on the next one, which pipelined traffic needs to be cheap.
 */
export function writeMessage(socket: Socket, message: unknown): boolean {
  if (socket.destroyed || !socket.writable) return false;
  if (!corked.has(socket)) {
    corked.add(socket);
    socket.cork();
    process.nextTick(() => {
      corked.delete(socket);
      socket.uncork();
    });
  }
  socket.write(`${JSON.stringify(message)}\n`);
  return true;
}
