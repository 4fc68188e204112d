// The service as the Electron main process sees it when the control plane runs in another process:
// handle() and subscribe() like CmsService, carried as contract frames over a message port. Every
// call ends in a Result, also when the other process dies (code 'unavailable'); nothing here throws.
import type { PushEventName, Result, WsClientMessage } from '../../contract/contract';
import type { PushListener } from '../service/service';
import { backendMessageSchema, type BackendMessage } from './backend-protocol';
import { answerClientValue, type ServiceLike } from './messages';

export interface RemoteServiceOptions {
  /** Sends one frame to the control-plane process. */
  post: (message: WsClientMessage) => void;
  /** Lifecycle frames (ready, failed, stopped). */
  onLifecycle?: (message: Extract<BackendMessage, { kind: 'ready' | 'failed' | 'stopped' }>) => void;
  /** A frame that did not parse (a bug on the other side; worth a log line). */
  onMalformed?: (issue: string) => void;
}

export class RemoteService {
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly listeners = new Set<PushListener>();
  private nextId = 1;
  private gone: string | null = null;

  constructor(private readonly options: RemoteServiceOptions) {}

  handle(channel: unknown, payload: unknown): Promise<Result<unknown>> {
    if (this.gone !== null) return Promise.resolve({ ok: false, error: { code: 'unavailable', message: this.gone } });
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      try {
        this.options.post({ kind: 'invoke', id, channel: String(channel), payload });
      } catch (error) {
        this.pending.delete(id);
        resolve({ ok: false, error: { code: 'unavailable', message: `the control plane cannot be reached: ${error instanceof Error ? error.message : String(error)}` } });
      }
    });
  }

  subscribe(listener: PushListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Feeds one frame received from the control-plane process. */
  receive(value: unknown): void {
    const parsed = backendMessageSchema.safeParse(value);
    if (!parsed.success) {
      this.options.onMalformed?.(parsed.error.message);
      return;
    }
    const message = parsed.data;
    if (message.kind === 'result') {
      const resolve = this.pending.get(message.id);
      this.pending.delete(message.id);
      resolve?.(message.result);
    } else if (message.kind === 'event') {
      for (const listener of this.listeners) {
        try {
          // The payload was built from the contract's schemas on the other side of a trusted boundary.
          (listener as (event: PushEventName, payload: unknown) => void)(message.event as PushEventName, message.payload);
        } catch {
          // One broken listener must not starve the others.
        }
      }
    } else {
      this.options.onLifecycle?.(message);
    }
  }

  /** The other process ended: every pending and future call answers 'unavailable' with this reason. */
  disconnect(reason: string): void {
    this.gone = reason;
    for (const resolve of this.pending.values()) resolve({ ok: false, error: { code: 'unavailable', message: reason } });
    this.pending.clear();
  }
}

/**
 * The control-plane side: answers invoke frames with the real service and forwards every push
 * event. Returns the function that feeds it received frames, and a dispose.
 */
export function serveOverPort(service: ServiceLike, post: (message: BackendMessage) => void): { receive(value: unknown): void; dispose(): void } {
  const safePost = (message: BackendMessage): void => {
    try {
      post(message);
    } catch {
      // The main process is gone; the process is about to end anyway.
    }
  };
  const unsubscribe = service.subscribe((event, payload) => safePost({ kind: 'event', event, payload }));
  return {
    receive(value) {
      void answerClientValue(service, value).then(safePost);
    },
    dispose: unsubscribe,
  };
}
