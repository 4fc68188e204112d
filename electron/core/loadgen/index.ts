// The load generator's public surface: profiles, trace files, the open-model generator and the
// accuracy helper for the benchmark. Re-exports only; nothing here may hold state.
export * from './profiles';
export * from './trace';
export * from './generator';
export * from './accuracy';
