// HypervisorError: every failed libvirt action or lookup, with a stable code and a message naming the VM.
// Classification only: must not retry, log or decide anything (the caller does).

export type HypervisorErrorCode = 'not_found' | 'invalid_state' | 'not_connected' | 'libvirt' | 'timeout';

export class HypervisorError extends Error {
  override readonly name = 'HypervisorError';
  readonly code: HypervisorErrorCode;
  /** libvirt's own message, unprefixed (empty when the error did not come from libvirt). */
  readonly libvirtMessage: string;

  constructor(code: HypervisorErrorCode, message: string, options: { libvirtMessage?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.libvirtMessage = options.libvirtMessage ?? '';
  }
}

// libvirt's virErrorNumber values for when a binding passes them through (@unraid/libvirt reports -1).
const VIR_ERR_INVALID_CONN = 3;
const VIR_ERR_NO_DOMAIN = 42;
const VIR_ERR_OPERATION_INVALID = 55;
const VIR_ERR_INVALID_DOMAIN = 7;

const notFoundPattern = /domain not found|no domain with matching|invalid uuid/i;
const invalidStatePattern =
  /already running|not running|not paused|is not active|already active|domain is not running|operation is not valid|cannot undefine transient|not shut ?off/i;
const notConnectedPattern =
  /invalid connection pointer|no connection driver|client socket is closed|cannot recv data|end of file while reading|broken pipe|connection reset|not connected/i;

function libvirtCodeOf(err: unknown): number {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = (err as { code: unknown }).code;
    if (typeof code === 'number') return code;
  }
  return -1;
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Sorts a libvirt failure into a stable code, from its error number when present, else its message. */
export function classifyLibvirtError(err: unknown): HypervisorErrorCode {
  if (err instanceof HypervisorError) return err.code;
  const code = libvirtCodeOf(err);
  if (code === VIR_ERR_NO_DOMAIN || code === VIR_ERR_INVALID_DOMAIN) return 'not_found';
  if (code === VIR_ERR_OPERATION_INVALID) return 'invalid_state';
  if (code === VIR_ERR_INVALID_CONN) return 'not_connected';
  const message = messageOf(err);
  if (notFoundPattern.test(message)) return 'not_found';
  if (invalidStatePattern.test(message)) return 'invalid_state';
  if (notConnectedPattern.test(message)) return 'not_connected';
  return 'libvirt';
}

/** Wraps a failure of `<what>` on `<target>` ("start of cms-web-3 failed: <libvirt message>"). */
export function toHypervisorError(what: string, target: string, err: unknown): HypervisorError {
  if (err instanceof HypervisorError) return err;
  const libvirtMessage = messageOf(err);
  return new HypervisorError(classifyLibvirtError(err), `${what} of ${target} failed: ${libvirtMessage}`, {
    libvirtMessage,
    cause: err,
  });
}
