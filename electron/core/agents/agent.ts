// One registered guest on its agent connection: pipelined requests matched by id, per-request
// timeouts, the heartbeat watchdog and the consecutive-error count that eject a sick guest.
// It never touches sockets directly (the server hands it a transport) and never reconnects.
import type { Clock, TimerHandle } from '../clock';
import type {
  ErrorAnswer,
  GuestRequest,
  HelloAnswer,
  LoadMessage,
  ManagerToGuest,
  ParkedAnswer,
  ParkRequest,
  RegisterMessage,
  RequestId,
  ResultAnswer,
} from '../../../guest-server/src/protocol';
import { AgentRequestError, ejectionWorthyGuestCodes } from './errors';
import type { Logger } from '../metrics/log';

/** Why an agent left the pool of usable members. */
export type EjectReason =
  /** The connection closed (the guest hung up, the network reset it, or the server is closing). */
  | 'closed'
  /** No heartbeat within `heartbeatTimeoutMs`. */
  | 'heartbeat'
  /** `maxConsecutiveErrors` timeouts or internal errors in a row. */
  | 'errors'
  /** The same UUID registered again on a new connection. */
  | 'replaced'
  /** Ejected on purpose by the manager (the pool stopped the member, an operator kicked it). */
  | 'kicked'
  /** The guest broke the protocol beyond repair (a line over the length limit). */
  | 'protocol';

/** How the agent talks to its connection; the server implements it over a socket. */
export interface AgentTransport {
  /** Writes one message; false when the connection can no longer carry it. */
  send(message: ManagerToGuest): boolean;
  /** Cuts the connection at once (no graceful close: an ejected guest gets nothing more). */
  close(): void;
}

export interface AgentHooks {
  onEjected(agent: Agent, reason: EjectReason, detail: string): void;
  onLoad(agent: Agent, load: LoadMessage): void;
}

export interface AgentOptions {
  clock: Clock;
  register: RegisterMessage;
  /** Remote `ip:port` of the connection. */
  address: string;
  transport: AgentTransport;
  hooks: AgentHooks;
  /** Eject when no `load` message arrives for this long, in ms. @default 2000 */
  heartbeatTimeoutMs?: number;
  /**
   * Eject after this many errors in a row: internal errors, bad lines, and timeouts of requests
   * during which the guest answered nothing at all. @default 3
   */
  maxConsecutiveErrors?: number;
  /**
   * How long a timed-out request still counts as outstanding while its late answer may come, in ms.
   * A stalled guest thus looks loaded to the balancer; the entry is forgotten after this. @default 30000
   */
  lateAnswerGraceMs?: number;
  log: Logger;
}

/** How many timed-out request ids are remembered past their grace, per agent. */
const FORGOTTEN_IDS_KEPT = 4096;

type ExpectedAnswer = 'result' | 'pong' | 'hello' | 'parked';
type Answer = ResultAnswer | HelloAnswer | { t: 'pong'; id: RequestId } | ParkedAnswer | ErrorAnswer;

interface PendingRequest {
  expects: ExpectedAnswer;
  sentAtMs: number;
  /** `answersReceived` when the request went out: unchanged at its timeout means a silent guest. */
  answersAtSend: number;
  timer: TimerHandle;
  /** Set once the caller has been told 'timeout': the entry stays only for bookkeeping. */
  timedOut: boolean;
  resolve(answer: Answer): void;
  reject(error: AgentRequestError): void;
}

interface ReadyWaiter {
  timer: TimerHandle;
  resolve(): void;
  reject(error: AgentRequestError): void;
}

/** A guest's threads are ready when its heartbeat says so, or when it does not report them at all. */
function threadsReady(load: LoadMessage | null): boolean {
  return load !== null && (load.ready === undefined || load.ready > 0);
}

export class Agent {
  readonly uuid: string;
  readonly hostname: string;
  readonly vcpus: number;
  readonly version: string;
  /** The guest's own listening port, when it reported one. */
  readonly guestPort: number | undefined;
  readonly address: string;
  readonly registeredAtMs: number;
  lastLoad: LoadMessage | null = null;
  lastHeartbeatAtMs: number;
  /** Answers received in time, errors included. */
  completed = 0;
  consecutiveErrors = 0;
  /** Lines from the guest that were not valid protocol messages. */
  badLines = 0;
  /** Answers received on this connection, in time or late. */
  answersReceived = 0;

  private readonly clock: Clock;
  private readonly transport: AgentTransport;
  private readonly hooks: AgentHooks;
  private readonly heartbeatTimeoutMs: number;
  private readonly maxConsecutiveErrors: number;
  private readonly lateAnswerGraceMs: number;
  private readonly log: Logger;
  private readonly pending = new Map<RequestId, PendingRequest>();
  private readonly readyWaiters = new Set<ReadyWaiter>();
  /** Ids whose late-answer grace ran out, oldest first (bounded by FORGOTTEN_IDS_KEPT). */
  private readonly forgotten = new Set<RequestId>();
  private nextId = 1;
  private watchdog: TimerHandle | null = null;
  private ejectedReason: EjectReason | null = null;

  constructor(options: AgentOptions) {
    this.clock = options.clock;
    this.uuid = options.register.uuid;
    this.hostname = options.register.hostname;
    this.vcpus = options.register.vcpus;
    this.version = options.register.version;
    this.guestPort = options.register.port;
    this.address = options.address;
    this.transport = options.transport;
    this.hooks = options.hooks;
    this.heartbeatTimeoutMs = options.heartbeatTimeoutMs ?? 2000;
    this.maxConsecutiveErrors = options.maxConsecutiveErrors ?? 3;
    this.lateAnswerGraceMs = options.lateAnswerGraceMs ?? 30_000;
    this.log = options.log;
    this.registeredAtMs = this.clock.nowMs();
    // Registration counts as the first sign of life: the first heartbeat is due a timeout from now.
    this.lastHeartbeatAtMs = this.registeredAtMs;
    this.armWatchdog(this.heartbeatTimeoutMs);
  }

  /** The balancer's member id: the domain UUID. */
  get id(): string {
    return this.uuid;
  }

  /** Usable for new work: registered and not ejected. */
  get healthy(): boolean {
    return this.ejectedReason === null;
  }

  get ejected(): EjectReason | null {
    return this.ejectedReason;
  }

  /** Requests sent and not answered yet, including timed-out ones whose late answer may still come. */
  get outstanding(): number {
    return this.pending.size;
  }

  /** Asks the guest for a SHA-256 prefix collision; rejects with AgentRequestError. */
  async collide(word: string, digits: number, timeoutMs: number): Promise<ResultAnswer> {
    const answer = await this.request({ t: 'collide', id: this.nextId++, word, digits }, 'result', timeoutMs);
    return answer as ResultAnswer;
  }

  /** Round trip to the guest; resolves with the time it took, in ms. */
  async ping(timeoutMs: number): Promise<number> {
    const startMs = this.clock.nowMs();
    await this.request({ t: 'ping', id: this.nextId++ }, 'pong', timeoutMs);
    return this.clock.nowMs() - startMs;
  }

  async hello(timeoutMs: number): Promise<HelloAnswer> {
    const answer = await this.request({ t: 'hello', id: this.nextId++ }, 'hello', timeoutMs);
    return answer as HelloAnswer;
  }

  /**
   * Tells the guest it is about to be saved to disk; resolves once it answered `parked` (it then
   * watches for the restore). Rejects with AgentRequestError, e.g. `guest_error` from a guest
   * server too old to know `park`.
   */
  async park(timeoutMs: number): Promise<void> {
    await this.request({ t: 'park', id: this.nextId++ }, 'parked', timeoutMs);
  }

  /**
   * Takes the agent out of service: cuts the connection, rejects every pending request with
   * 'closed' and reports the ejection once. Later calls do nothing.
   */
  eject(reason: EjectReason = 'kicked', detail = ''): void {
    if (this.ejectedReason !== null) return;
    this.ejectedReason = reason;
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
    this.transport.close();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) {
      this.clock.clearTimeout(request.timer);
      if (!request.timedOut) request.reject(new AgentRequestError('closed', `agent ${this.uuid} ejected (${reason})`));
    }
    this.settleReadyWaiters(new AgentRequestError('closed', `agent ${this.uuid} ejected (${reason})`));
    this.hooks.onEjected(this, reason, detail);
  }

  /**
   * Stops (true) or restarts (false) the heartbeat watchdog. The pool pauses warm-pool members on
   * purpose; their silence then is expected and must not eject them. Restarting counts as a fresh
   * sign of life, so a resumed guest has a whole timeout to send its next heartbeat.
   */
  setHeartbeatExempt(exempt: boolean): void {
    if (this.ejectedReason !== null) return;
    if (this.watchdog) this.clock.clearTimeout(this.watchdog);
    this.watchdog = null;
    if (exempt) return;
    this.lastHeartbeatAtMs = this.clock.nowMs();
    this.armWatchdog(this.heartbeatTimeoutMs);
  }

  // ---- called by the server for each message on the connection

  /**
   * Resolves once the guest reports a worker thread ready (a guest that does not report threads
   * counts as ready at its first heartbeat). Until then it answers on its main thread, slower.
   * Rejects with 'timeout' after timeoutMs, or 'closed' if the agent is ejected first.
   */
  whenThreadsReady(timeoutMs: number): Promise<void> {
    if (this.ejectedReason !== null) return Promise.reject(new AgentRequestError('closed', `agent ${this.uuid} is ejected (${this.ejectedReason})`));
    if (threadsReady(this.lastLoad)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: ReadyWaiter = {
        resolve,
        reject,
        timer: this.clock.setTimeout(() => {
          this.readyWaiters.delete(waiter);
          reject(new AgentRequestError('timeout', `agent ${this.uuid}: no worker thread ready within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.readyWaiters.add(waiter);
    });
  }

  /** @internal A heartbeat from the guest. */
  handleLoad(load: LoadMessage): void {
    if (this.ejectedReason !== null) return;
    this.lastLoad = load;
    this.lastHeartbeatAtMs = this.clock.nowMs();
    if (threadsReady(load)) this.settleReadyWaiters(null);
    this.hooks.onLoad(this, load);
  }

  private settleReadyWaiters(error: AgentRequestError | null): void {
    const waiters = [...this.readyWaiters];
    this.readyWaiters.clear();
    for (const waiter of waiters) {
      this.clock.clearTimeout(waiter.timer);
      if (error) waiter.reject(error);
      else waiter.resolve();
    }
  }

  /** @internal An answer (result, pong, hello, parked or error) from the guest. */
  handleAnswer(answer: Answer): void {
    if (this.ejectedReason !== null) return;
    const id = answer.id;
    if (id === null) {
      // The guest complains about a line we sent that it could not even attribute: our bug, not its.
      if (answer.t === 'error') this.log.warn('agent.guest_error_unattributed', { uuid: this.uuid, code: answer.code, message: answer.message });
      return;
    }
    const request = this.pending.get(id);
    if (!request) {
      if (this.forgotten.delete(id)) {
        this.log.debug('agent.late_answer', { uuid: this.uuid, id, afterGrace: true });
        return;
      }
      this.noteBadLine(`answer for unknown id ${JSON.stringify(id)}`);
      return;
    }
    this.pending.delete(id);
    this.clock.clearTimeout(request.timer);
    this.answersReceived++;
    if (request.timedOut) {
      this.log.debug('agent.late_answer', { uuid: this.uuid, id, lateByMs: this.clock.nowMs() - request.sentAtMs });
      return;
    }
    this.completed++;
    if (answer.t === 'error') {
      const countsAsFailure = ejectionWorthyGuestCodes.has(answer.code);
      request.reject(new AgentRequestError('guest_error', `guest ${this.uuid}: ${answer.code}: ${answer.message}`, answer.code));
      if (countsAsFailure) this.noteFailure(`guest error ${answer.code}`);
      return;
    }
    if (answer.t !== request.expects) {
      request.reject(new AgentRequestError('bad_answer', `guest ${this.uuid} answered ${request.expects} request with ${answer.t}`));
      this.noteFailure(`wrong answer type ${answer.t}`);
      return;
    }
    this.consecutiveErrors = 0;
    request.resolve(answer);
  }

  /** @internal A line that was not JSON or not a message a guest may send. */
  noteBadLine(detail: string): void {
    if (this.ejectedReason !== null) return;
    this.badLines++;
    this.log.warn('agent.bad_line', { uuid: this.uuid, detail, badLines: this.badLines });
    this.noteFailure(`bad line: ${detail}`);
  }

  // ---- internals

  private request(message: GuestRequest | ParkRequest, expects: ExpectedAnswer, timeoutMs: number): Promise<Answer> {
    return new Promise<Answer>((resolve, reject) => {
      if (this.ejectedReason !== null) {
        reject(new AgentRequestError('closed', `agent ${this.uuid} is ejected (${this.ejectedReason})`));
        return;
      }
      const id = message.id;
      const request: PendingRequest = {
        expects,
        sentAtMs: this.clock.nowMs(),
        answersAtSend: this.answersReceived,
        timedOut: false,
        resolve,
        reject,
        timer: this.clock.setTimeout(() => this.onRequestTimeout(id), timeoutMs),
      };
      this.pending.set(id, request);
      if (!this.transport.send(message)) {
        // The socket is gone but its close event has not reached us yet: fail like a close would.
        this.pending.delete(id);
        this.clock.clearTimeout(request.timer);
        reject(new AgentRequestError('closed', `agent ${this.uuid}: connection not writable`));
      }
    });
  }

  private onRequestTimeout(id: RequestId): void {
    const request = this.pending.get(id);
    if (!request) return;
    if (request.timedOut) {
      // The grace for a late answer is over: stop counting it as outstanding, but remember the id,
      // so a still later answer reads as late (an overloaded guest) and not as a protocol error.
      this.pending.delete(id);
      this.forgotten.add(id);
      if (this.forgotten.size > FORGOTTEN_IDS_KEPT) {
        const oldest = this.forgotten.values().next().value;
        if (oldest !== undefined) this.forgotten.delete(oldest);
      }
      return;
    }
    request.timedOut = true;
    request.timer = this.clock.setTimeout(() => this.onRequestTimeout(id), this.lateAnswerGraceMs);
    request.reject(new AgentRequestError('timeout', `agent ${this.uuid}: no answer within ${Math.round(this.clock.nowMs() - request.sentAtMs)} ms`));
    // A guest that answered anything since this request went out is slow (queued work), not stuck:
    // ejecting it for that would cascade through an overloaded pool. Only a silent one counts.
    if (this.answersReceived === request.answersAtSend) this.noteFailure('request timeout');
  }

  private noteFailure(detail: string): void {
    this.consecutiveErrors++;
    if (this.consecutiveErrors >= this.maxConsecutiveErrors) {
      this.eject('errors', `${this.consecutiveErrors} consecutive errors, last: ${detail}`);
    }
  }

  private armWatchdog(delayMs: number): void {
    this.watchdog = this.clock.setTimeout(() => this.checkHeartbeat(), delayMs);
  }

  // A timer that re-arms for the remaining time, instead of being reset on every heartbeat.
  private checkHeartbeat(): void {
    this.watchdog = null;
    if (this.ejectedReason !== null) return;
    const silentMs = this.clock.nowMs() - this.lastHeartbeatAtMs;
    if (silentMs >= this.heartbeatTimeoutMs) {
      this.eject('heartbeat', `no heartbeat for ${Math.round(silentMs)} ms`);
      return;
    }
    this.armWatchdog(this.heartbeatTimeoutMs - silentMs);
  }
}
