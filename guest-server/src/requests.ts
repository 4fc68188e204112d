// Turns one received line into a validated request or the error answer it deserves, with the
// protocol's zod schemas. Pure and total: it never throws, whatever the bytes, so that bad input
// from one client can never stop the server.
import {
  collideRequestSchema,
  describeZodError,
  helloRequestSchema,
  pingRequestSchema,
  requestIdSchema,
  type ErrorAnswer,
  type ErrorCode,
  type GuestRequest,
  type RequestId,
} from './protocol';

export type JsonObject = Record<string, unknown>;

export type ObjectParse = { ok: true; value: JsonObject } | { ok: false; error: ErrorAnswer };
export type RequestParse = { ok: true; request: GuestRequest } | { ok: false; error: ErrorAnswer };

const requestSchemas = { hello: helloRequestSchema, ping: pingRequestSchema, collide: collideRequestSchema } as const;
type RequestType = keyof typeof requestSchemas;
const REQUEST_TYPES = Object.keys(requestSchemas) as RequestType[];

export function errorAnswer(id: RequestId | null, code: ErrorCode, message: string): ErrorAnswer {
  return { t: 'error', id, code, message };
}

/** A blank line (or only whitespace) is ignored rather than answered: `nc` users press Enter. */
export function isBlankLine(text: string): boolean {
  return text.trim().length === 0;
}

/** Parses a line as a JSON object (bad_json / not_object otherwise). */
export function parseJsonObject(text: string): ObjectParse {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : 'parse error';
    return { ok: false, error: errorAnswer(null, 'bad_json', `(line): not valid JSON (${truncate(detail, 120)})`) };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return { ok: false, error: errorAnswer(null, 'not_object', `(root): expected a JSON object, got ${kind}`) };
  }
  return { ok: true, value: value as JsonObject };
}

/** The request id to echo in an error, when the object carries a well-formed one. */
export function readableId(value: JsonObject): RequestId | null {
  const parsed = requestIdSchema.safeParse(value.id);
  return parsed.success ? parsed.data : null;
}

/** Validates a parsed object as a request a guest serves (unknown_type / bad_field otherwise). */
export function validateRequest(value: JsonObject): RequestParse {
  const id = readableId(value);
  const type = value.t;
  if (typeof type !== 'string' || !(REQUEST_TYPES as string[]).includes(type)) {
    const got = type === undefined ? 'missing' : `unknown type ${truncate(JSON.stringify(type) ?? String(type), 40)}`;
    return { ok: false, error: errorAnswer(id, 'unknown_type', `t: ${got} (expected one of ${REQUEST_TYPES.join(', ')})`) };
  }
  const parsed = requestSchemas[type as RequestType].safeParse(value);
  if (!parsed.success) return { ok: false, error: errorAnswer(id, 'bad_field', truncate(describeZodError(parsed.error), 500)) };
  return { ok: true, request: parsed.data };
}

/** Both steps at once, for client connections. */
export function parseRequestLine(text: string): RequestParse {
  const object = parseJsonObject(text);
  return object.ok ? validateRequest(object.value) : object;
}

function truncate(text: string, maxChars: number): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}…`;
}
