// The metrics' public surface: latency histograms, per-second series and structured logging.
// Re-exports only; nothing here may hold state.
export * from './latency';
export * from './series';
export * from './log';
