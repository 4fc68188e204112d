// The guest protocol: newline-delimited JSON between the manager, clients and each guest server.
// This file is the one contract both sides import (guest-server and electron/core); it must stay
// free of Node-only APIs beyond types so that it bundles into the one-file guest server.
import { z } from 'zod';

/** Protocol version the guest reports in `register` and `hello`. */
export const PROTOCOL_VERSION = '1';

/** Default limits, shared so that manager and guest agree. */
export const MAX_LINE_BYTES_DEFAULT = 64 * 1024;
/** Longest `word` a collide request may carry, in characters. */
export const MAX_WORD_CHARS = 1024;
export const MIN_DIGITS = 1;
export const MAX_DIGITS = 8;

/** A request id: a non-negative safe integer or a short string, echoed in the answer. */
export const requestIdSchema = z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.string().min(1).max(64)]);
export type RequestId = z.infer<typeof requestIdSchema>;

// ---- requests a guest serves (from the manager on the agent connection, or from any client on its own port)

export const helloRequestSchema = z.object({ t: z.literal('hello'), id: requestIdSchema });
export const pingRequestSchema = z.object({ t: z.literal('ping'), id: requestIdSchema });
export const collideRequestSchema = z.object({
  t: z.literal('collide'),
  id: requestIdSchema,
  word: z.string().max(MAX_WORD_CHARS),
  digits: z.number().int().min(MIN_DIGITS).max(MAX_DIGITS),
});
export const guestRequestSchema = z.discriminatedUnion('t', [helloRequestSchema, pingRequestSchema, collideRequestSchema]);
export type GuestRequest = z.infer<typeof guestRequestSchema>;
export type CollideRequest = z.infer<typeof collideRequestSchema>;

// ---- answers from a guest

export const helloAnswerSchema = z.object({
  t: z.literal('hello'),
  id: requestIdSchema,
  version: z.string(),
  uuid: z.string(),
  vcpus: z.number().int().positive(),
  workers: z.number().int().positive(),
});
export const pongAnswerSchema = z.object({ t: z.literal('pong'), id: requestIdSchema });
export const resultAnswerSchema = z.object({
  t: z.literal('result'),
  id: requestIdSchema,
  match: z.string(),
  attempts: z.number().int().positive(),
  ms: z.number().nonnegative(),
});

/** Stable error codes; `message` says which field or limit was wrong. */
export const errorCodes = [
  'bad_json', // the line is not JSON
  'not_object', // JSON, but not an object
  'unknown_type', // `t` missing or not a known type
  'bad_field', // a field missing, of the wrong type or out of range
  'line_too_long', // a line over the limit; the connection closes after this
  'busy', // over the in-flight cap of this connection
  'shutting_down', // the server is draining and takes no new work
  'unauthorized', // register refused: unknown UUID or wrong token
  'internal', // a worker failed; the request did not complete
] as const;
export type ErrorCode = (typeof errorCodes)[number];

export const errorAnswerSchema = z.object({
  t: z.literal('error'),
  id: requestIdSchema.nullable(),
  code: z.enum(errorCodes),
  message: z.string(),
});

// ---- the agent connection: the guest dials the manager

export const registerMessageSchema = z.object({
  t: z.literal('register'),
  uuid: z.string().min(1).max(64),
  hostname: z.string().max(255),
  vcpus: z.number().int().positive(),
  version: z.string().max(32),
  token: z.string().max(256),
  /** The guest's own listening port, for direct use and tests. */
  port: z.number().int().min(0).max(65535).optional(),
});
export const registeredMessageSchema = z.object({ t: z.literal('registered') });

/** Heartbeat the guest sends every `heartbeatMs` on the agent connection. */
export const loadMessageSchema = z.object({
  t: z.literal('load'),
  /** Fraction of worker time spent hashing over the last interval, 0–1. */
  busy: z.number().min(0).max(1),
  /** Requests accepted and not yet answered, over all connections. */
  inflight: z.number().int().nonnegative(),
  /** Requests completed since the guest started. */
  completed: z.number().int().nonnegative(),
  /** Hashes computed over the last interval, per second. */
  hashRate: z.number().nonnegative().optional(),
});

/** Everything a manager may receive from a guest on the agent connection. */
export const guestToManagerSchema = z.discriminatedUnion('t', [
  registerMessageSchema,
  loadMessageSchema,
  helloAnswerSchema,
  pongAnswerSchema,
  resultAnswerSchema,
  errorAnswerSchema,
]);
export type GuestToManager = z.infer<typeof guestToManagerSchema>;
export type RegisterMessage = z.infer<typeof registerMessageSchema>;
export type LoadMessage = z.infer<typeof loadMessageSchema>;
export type ResultAnswer = z.infer<typeof resultAnswerSchema>;
export type ErrorAnswer = z.infer<typeof errorAnswerSchema>;
export type HelloAnswer = z.infer<typeof helloAnswerSchema>;

/** Everything a guest may receive from the manager on the agent connection. */
export const managerToGuestSchema = z.discriminatedUnion('t', [
  registeredMessageSchema,
  errorAnswerSchema,
  helloRequestSchema,
  pingRequestSchema,
  collideRequestSchema,
]);
export type ManagerToGuest = z.infer<typeof managerToGuestSchema>;

/** Formats a zod error as `path: message` pairs, so an error names the failing field. */
export function describeZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
