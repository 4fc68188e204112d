// The guest protocol's version and size limits, apart from its zod schemas (protocol.ts): the flag
// parser needs these numbers, not the schemas.
/** Protocol version the guest reports in `register` and `hello`. */
export const PROTOCOL_VERSION = '1';

/** Default limits, shared so that manager and guest agree. */
export const MAX_LINE_BYTES_DEFAULT = 64 * 1024;
/** Longest `word` a collide request may carry, in characters. */
export const MAX_WORD_CHARS = 1024;
export const MIN_DIGITS = 1;
export const MAX_DIGITS = 8;
