// One conversation with a client or the manager: answers hello and ping, queues collide work to the
// pool under a per-connection in-flight cap, and writes each answer when it is ready (out of order).
// It does not own the socket: the connection wrapper frames lines in and carries messages out.
import type { JobHandle, JobOutcome, WorkerPool } from './pool';
import type { Logger } from './log';
import type { GuestRequest, RequestId } from './protocol';
import { errorAnswer, isBlankLine, parseRequestLine, validateRequest, type JsonObject } from './requests';

/** Counters over all connections, for the heartbeat and for draining on shutdown. */
export class GuestStats {
  /** Collide requests accepted and not yet finished. */
  inflight = 0;
  /** Collide requests answered with a result since start. */
  completed = 0;
  private idleWaiters: Array<() => void> = [];

  begin(): void {
    this.inflight++;
  }

  end(completed: boolean): void {
    this.inflight--;
    if (completed) this.completed++;
    if (this.inflight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /** Resolves when no request is in flight. */
  whenIdle(): Promise<void> {
    if (this.inflight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** What `hello` reports. */
export interface GuestIdentity {
  version: string;
  uuid: string;
  vcpus: number;
  workers: number;
}

export interface SessionDeps {
  pool: Pick<WorkerPool, 'submit'>;
  stats: GuestStats;
  identity: GuestIdentity;
  /** Collide requests one connection may have in flight; more get `busy`. */
  maxInflight: number;
  /** True once shutdown began: new requests get `shutting_down`. */
  isDraining: () => boolean;
  log: Logger;
}

interface InflightEntry {
  id: RequestId;
  /** Set when the request was already answered (aborted), so its late outcome is dropped. */
  answered: boolean;
}

export class Session {
  private readonly inflight = new Map<JobHandle, InflightEntry>();
  private closed = false;

  constructor(
    private readonly send: (message: object) => void,
    private readonly deps: SessionDeps,
    /** Names the connection in logs, e.g. "client 127.0.0.1:5123" or "manager". */
    readonly label: string,
  ) {}

  get inflightCount(): number {
    return this.inflight.size;
  }

  handleLine(text: string): void {
    if (this.closed || isBlankLine(text)) return;
    const parsed = parseRequestLine(text);
    if (!parsed.ok) return this.reply(parsed.error);
    this.handleRequest(parsed.request);
  }

  /** For a caller that already parsed the object (the manager link filters its own messages). */
  handleObject(value: JsonObject): void {
    if (this.closed) return;
    const parsed = validateRequest(value);
    if (!parsed.ok) return this.reply(parsed.error);
    this.handleRequest(parsed.request);
  }

  /** Answers every request still in flight with `code` and stops its work (drain timeout). */
  abortAll(code: 'shutting_down' | 'internal', message: string): void {
    for (const [handle, entry] of this.inflight) {
      if (entry.answered) continue;
      entry.answered = true;
      this.reply(errorAnswer(entry.id, code, message));
      handle.cancel();
    }
  }

  /** The connection is gone: stop its work, send nothing more. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const handle of this.inflight.keys()) handle.cancel();
  }

  private handleRequest(request: GuestRequest): void {
    const { identity, isDraining } = this.deps;
    if (isDraining()) return this.reply(errorAnswer(request.id, 'shutting_down', `${request.t}: the guest is shutting down`));
    switch (request.t) {
      case 'hello':
        return this.reply({ t: 'hello', id: request.id, ...identity });
      case 'ping':
        return this.reply({ t: 'pong', id: request.id });
      case 'collide':
        return this.startCollide(request.id, request.word, request.digits);
    }
  }

  private startCollide(id: RequestId, word: string, digits: number): void {
    const { pool, stats, maxInflight } = this.deps;
    if (this.inflight.size >= maxInflight) {
      return this.reply(errorAnswer(id, 'busy', `id: ${maxInflight} requests already in flight on this connection`));
    }
    const entry: InflightEntry = { id, answered: false };
    stats.begin();
    // The pool never calls back synchronously, so the handle is known when the outcome arrives.
    const handle: JobHandle = pool.submit({ word, digits }, (outcome) => this.finish(handle, entry, outcome));
    this.inflight.set(handle, entry);
  }

  private finish(handle: JobHandle, entry: InflightEntry, outcome: JobOutcome): void {
    this.inflight.delete(handle);
    this.deps.stats.end(outcome.kind === 'result' && !entry.answered);
    if (entry.answered || this.closed) return;
    entry.answered = true;
    if (outcome.kind === 'result') {
      this.reply({ t: 'result', id: entry.id, match: outcome.match, attempts: outcome.attempts, ms: outcome.ms });
    } else if (outcome.kind === 'cancelled') {
      this.reply(errorAnswer(entry.id, 'shutting_down', 'collide: the work was stopped because the guest is shutting down'));
    } else {
      this.deps.log.error('collide_failed', { connection: this.label, id: entry.id, message: outcome.message });
      this.reply(errorAnswer(entry.id, 'internal', `collide: ${outcome.message}`));
    }
  }

  private reply(message: object): void {
    if (!this.closed) this.send(message);
  }
}
