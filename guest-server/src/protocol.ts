// The guest protocol: newline-delimited JSON between the manager, clients and each guest server.
// This file is the one contract both sides import (guest-server and electron/core); it must stay
// free of Node-only APIs beyond types so that it bundles into the one-file guest server. It uses
// zod's mini build with the English messages only: the full build was 450 of the guest server's 500
// KB, and loading it cost about half a second of a guest's boot under TCG emulation.
import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { MAX_DIGITS, MAX_WORD_CHARS, MIN_DIGITS } from './protocol-limits';

z.config(en());

export { MAX_DIGITS, MAX_LINE_BYTES_DEFAULT, MAX_WORD_CHARS, MIN_DIGITS, PROTOCOL_VERSION } from './protocol-limits';

/** A request id: a non-negative safe integer or a short string, echoed in the answer. */
export const requestIdSchema = z.union([z.int().check(z.nonnegative(), z.maximum(Number.MAX_SAFE_INTEGER)), z.string().check(z.minLength(1), z.maxLength(64))]);
export type RequestId = z.infer<typeof requestIdSchema>;

// ---- requests a guest serves (from the manager on the agent connection, or from any client on its own port)

export const helloRequestSchema = z.object({ t: z.literal('hello'), id: requestIdSchema });
export const pingRequestSchema = z.object({ t: z.literal('ping'), id: requestIdSchema });
export const collideRequestSchema = z.object({
  t: z.literal('collide'),
  id: requestIdSchema,
  word: z.string().check(z.maxLength(MAX_WORD_CHARS)),
  digits: z.int().check(z.minimum(MIN_DIGITS), z.maximum(MAX_DIGITS)),
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
  vcpus: z.int().check(z.positive()),
  workers: z.int().check(z.positive()),
});
export const pongAnswerSchema = z.object({ t: z.literal('pong'), id: requestIdSchema });
export const resultAnswerSchema = z.object({
  t: z.literal('result'),
  id: requestIdSchema,
  match: z.string(),
  attempts: z.int().check(z.positive()),
  ms: z.number().check(z.nonnegative()),
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
  id: z.nullable(requestIdSchema),
  code: z.enum(errorCodes),
  message: z.string(),
});

// ---- the agent connection: the guest dials the manager

export const registerMessageSchema = z.object({
  t: z.literal('register'),
  uuid: z.string().check(z.minLength(1), z.maxLength(64)),
  hostname: z.string().check(z.maxLength(255)),
  vcpus: z.int().check(z.positive()),
  version: z.string().check(z.maxLength(32)),
  token: z.string().check(z.maxLength(256)),
  /** The guest's own listening port, for direct use and tests. */
  port: z.optional(z.int().check(z.minimum(0), z.maximum(65535))),
});
export const registeredMessageSchema = z.object({ t: z.literal('registered') });

/** Heartbeat the guest sends every `heartbeatMs` on the agent connection. */
export const loadMessageSchema = z.object({
  t: z.literal('load'),
  /** Fraction of worker time spent hashing over the last interval, 0–1. */
  busy: z.number().check(z.minimum(0), z.maximum(1)),
  /** Requests accepted and not yet answered, over all connections. */
  inflight: z.int().check(z.nonnegative()),
  /** Requests completed since the guest started. */
  completed: z.int().check(z.nonnegative()),
  /** Hashes computed over the last interval, per second. */
  hashRate: z.optional(z.number().check(z.nonnegative())),
  /** Worker threads ready to take work. Until one is, the guest answers on its main thread, slower. */
  ready: z.optional(z.int().check(z.nonnegative())),
});

/**
 * Manager → guest, on the agent connection only: the guest is about to be saved to disk (the saved
 * pool). It starts watching its RTC, so that it notices the restore and redials at once, and
 * answers `parked`. Running members do not watch: each check wakes an emulated guest (measured
 * under TCG: an idle guest's QEMU about half as busy without the watch).
 */
export const parkRequestSchema = z.object({ t: z.literal('park'), id: requestIdSchema });
export const parkedAnswerSchema = z.object({ t: z.literal('parked'), id: requestIdSchema });
export type ParkRequest = z.infer<typeof parkRequestSchema>;
export type ParkedAnswer = z.infer<typeof parkedAnswerSchema>;

/** Everything a manager may receive from a guest on the agent connection. */
export const guestToManagerSchema = z.discriminatedUnion('t', [
  registerMessageSchema,
  loadMessageSchema,
  helloAnswerSchema,
  pongAnswerSchema,
  resultAnswerSchema,
  errorAnswerSchema,
  parkedAnswerSchema,
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
  parkRequestSchema,
]);
export type ManagerToGuest = z.infer<typeof managerToGuestSchema>;

/** Formats a zod error as `path: message` pairs, so an error names the failing field. */
export function describeZodError(error: z.core.$ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}
