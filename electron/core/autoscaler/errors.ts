// Errors raised by the autoscaler and the elasticity metrics: a stable `code` for programs, a
// human `message` for people. Nothing here logs or decides; callers choose how to report.

export type AutoscalerErrorCode =
  /** A policy config failed validation; the message names the failing path. */
  | 'AUTOSCALER_CONFIG_INVALID'
  /** An argument to a method was out of range (e.g. scaleTo(-1)). */
  | 'AUTOSCALER_BAD_ARGUMENT'
  /** A demand/supply series for the elasticity metrics was malformed. */
  | 'ELASTICITY_BAD_SERIES';

export class AutoscalerError extends Error {
  readonly code: AutoscalerErrorCode;

  constructor(code: AutoscalerErrorCode, message: string) {
    super(message);
    this.name = 'AutoscalerError';
    this.code = code;
  }
}
