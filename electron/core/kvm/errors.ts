// KvmError: every failure of the real-host layer (image build, template, overlays, probe), with a
// stable code and a message that names the file, domain or command involved. Classification only.

export type KvmErrorCode =
  | 'image_build_failed'
  | 'image_missing'
  | 'image_invalid'
  | 'template_running'
  | 'template_invalid'
  | 'overlay_failed'
  | 'overlay_refused'
  | 'command_failed'
  | 'timeout';

export class KvmError extends Error {
  override readonly name = 'KvmError';
  constructor(
    readonly code: KvmErrorCode,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
  }
}
