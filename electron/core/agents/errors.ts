// Errors a request to an agent can end with, each with a stable `code` the balancer classifies.
// Pure data: no I/O, no timers, so both the agent and the balancer (and tests) can import it.
import type { ErrorCode } from '../../../guest-server/src/protocol';

export type AgentRequestErrorCode =
  /** No answer within the request's timeout (the guest may still answer later; that answer is ignored). */
  | 'timeout'
  /** The guest answered with `{t:'error'}`; `guestCode` says which. */
  | 'guest_error'
  /** The connection closed (or was ejected) before the answer came. */
  | 'closed'
  /** The guest answered the id with a message of the wrong type. */
  | 'bad_answer';

export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';

  constructor(
    readonly code: AgentRequestErrorCode,
    message: string,
    /** The guest's own error code, set when `code` is 'guest_error'. */
    readonly guestCode?: ErrorCode,
  ) {
    super(message);
  }
}

/**
 * Guest error codes that say "try again, maybe elsewhere" rather than "this request is wrong":
 * a busy or draining guest, or a worker that failed. Any other guest code (bad_field…) would fail
 * the same way on every guest.
 */
export const retriableGuestCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['busy', 'shutting_down', 'internal']);

/** Guest error codes that count toward ejecting a guest for consecutive errors. */
export const ejectionWorthyGuestCodes: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['internal']);

/** True when retrying the request (on another member) may succeed. */
export function isRetriableAgentError(error: unknown): boolean {
  if (!(error instanceof AgentRequestError)) return true;
  if (error.code === 'guest_error') return error.guestCode !== undefined && retriableGuestCodes.has(error.guestCode);
  return true;
}

/** A short stable reason string for an outcome: 'timeout', 'closed', 'guest_error:busy', … */
export function agentErrorReason(error: unknown): string {
  if (error instanceof AgentRequestError) {
    return error.code === 'guest_error' ? `guest_error:${error.guestCode ?? 'unknown'}` : error.code;
  }
  if (error instanceof Error && typeof (error as { code?: unknown }).code === 'string') {
    return (error as Error & { code: string }).code;
  }
  return 'error';
}
