// The one contract between the UI and the app: every command (`<area>:<verb>`) with its payload and
// result schemas, every push event, and the result envelope. Electron IPC and the web mode's
// WebSocket both carry exactly this. Browser-safe: zod and pure schema modules only, never Node.
import { z } from 'zod';
import { policyConfigSchema } from '../core/autoscaler/policies';
import { profileSchema } from '../core/loadgen/profiles';

// ---- shared shapes

export const domainStates = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export const domainRoles = ['template', 'member', 'other'] as const;
/** Pool health of a member, as the list shows it; null for domains that are not members. */
export const memberHealths = ['cloning', 'booting', 'healthy', 'warming', 'warm', 'saved', 'draining', 'stopping', 'failed'] as const;

export const domainViewSchema = z.object({
  hostId: z.string(),
  uuid: z.string(),
  name: z.string(),
  state: z.enum(domainStates),
  vcpus: z.number().int().nonnegative(),
  memoryKiB: z.number().nonnegative(),
  cpuPercent: z.number().min(0).max(100).nullable(),
  role: z.enum(domainRoles),
  health: z.enum(memberHealths).nullable(),
  /** Busy fraction the guest last reported (0-1); null when none. */
  busy: z.number().min(0).max(1).nullable(),
  /** Requests in flight on this member. */
  inflight: z.number().int().nonnegative(),
  /** Seconds since the domain was seen starting (members: since started); null when unknown or off. */
  uptimeS: z.number().nonnegative().nullable(),
});
export type DomainView = z.infer<typeof domainViewSchema>;

export const hostViewSchema = z.object({
  id: z.string(),
  uri: z.string(),
  status: z.enum(['connecting', 'connected', 'reconnecting', 'closed']),
  hostname: z.string().nullable(),
  cpus: z.number().nullable(),
  memoryKiB: z.number().nullable(),
  lastError: z.string().nullable(),
  /** A sandbox host: test-driver domains with simulated guests. */
  sandbox: z.boolean(),
});
export type HostView = z.infer<typeof hostViewSchema>;

export const sampleSchema = z.object({
  tS: z.number(),
  offeredRps: z.number(),
  arrivedPerS: z.number(),
  servedRps: z.number(),
  okPerS: z.number(),
  failedPerS: z.number(),
  expiredPerS: z.number(),
  p50Ms: z.number().nullable(),
  p95Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
  poolDesired: z.number(),
  poolBooting: z.number(),
  poolHealthy: z.number(),
  utilization: z.number().nullable(),
  inflight: z.number(),
});
export type Sample = z.infer<typeof sampleSchema>;

export const outcomesSchema = z.object({
  sent: z.number(),
  ok: z.number(),
  failed: z.number(),
  expired: z.number(),
  inflight: z.number(),
  retries: z.number(),
});

export const appStateSchema = z.object({
  hosts: z.array(hostViewSchema),
  domains: z.array(domainViewSchema),
  pool: z.object({
    name: z.string(),
    desired: z.number(),
    min: z.number(),
    max: z.number(),
    warmPoolSize: z.number(),
    savedPoolSize: z.number(),
    healthy: z.number(),
    booting: z.number(),
    warm: z.number(),
    saved: z.number(),
  }),
  load: z.object({
    profile: profileSchema,
    running: z.boolean(),
    paused: z.boolean(),
    offeredRps: z.number(),
    digits: z.number(),
    sent: z.number(),
  }),
  scaling: z.object({
    config: policyConfigSchema,
    paused: z.boolean(),
    lastReason: z.string().nullable(),
  }),
  outcomes: outcomesSchema,
  latest: sampleSchema.nullable(),
  /** Where guests dial in. */
  agentAddress: z.object({ host: z.string(), port: z.number() }).nullable(),
  /** Plain statement shown in the UI when sandbox VMs are simulated. */
  sandboxNote: z.string().nullable(),
  quitting: z.boolean(),
});
export type AppState = z.infer<typeof appStateSchema>;

export const logEntrySchema = z
  .object({ ts: z.string(), level: z.enum(['debug', 'info', 'warn', 'error']), event: z.string() })
  .catchall(z.unknown());
export type LogEntryView = z.infer<typeof logEntrySchema>;

export const domainActions = ['start', 'shutdown', 'forceoff', 'reboot', 'suspend', 'resume', 'delete'] as const;
export type DomainActionName = (typeof domainActions)[number];

const empty = z.object({}).strict();
const hostRef = z.object({ hostId: z.string().min(1), uuid: z.string().min(1) }).strict();

// ---- commands: UI → app, each answered once

export const commands = {
  /** The whole state now (the UI's first paint and resync). */
  'state:get': { input: empty, output: appStateSchema },
  'host:add': { input: z.object({ uri: z.string().min(1).max(1024) }).strict(), output: z.object({ id: z.string() }) },
  'host:remove': { input: z.object({ hostId: z.string().min(1) }).strict(), output: z.null() },
  /** One action on one or more domains; errors name each VM and libvirt's message. */
  'domain:action': {
    input: z.object({ action: z.enum(domainActions), targets: z.array(hostRef).min(1).max(1000) }).strict(),
    output: z.object({ done: z.number(), failed: z.array(z.object({ name: z.string(), message: z.string() })) }),
  },
  'domain:xml': { input: hostRef, output: z.string() },
  'pool:scale': { input: z.object({ count: z.number().int().min(0).max(10_000) }).strict(), output: z.object({ desired: z.number() }) },
  'scaling:set': { input: z.object({ policy: z.unknown() }).strict(), output: policyConfigSchema },
  'scaling:pause': { input: empty, output: z.null() },
  'scaling:resume': { input: empty, output: z.null() },
  /** Sets the load: a whole profile, a rate in req/s, or the original's inter-request time. */
  'load:set': {
    input: z.union([
      z.object({ profile: z.unknown() }).strict(),
      z.object({ rateRps: z.number().min(0).max(100_000) }).strict(),
      z.object({ interRequestS: z.number().positive().max(86_400) }).strict(),
    ]),
    output: profileSchema,
  },
  /** A trace file's text (CSV t_seconds,rate), replayed with the given scales. */
  'load:trace': {
    input: z.object({ name: z.string().max(255), text: z.string().max(16 * 1024 * 1024), timeScale: z.number().positive(), rateScale: z.number().positive() }).strict(),
    output: profileSchema,
  },
  'load:digits': { input: z.object({ digits: z.number().int().min(1).max(8) }).strict(), output: z.null() },
  'load:pause': { input: empty, output: z.null() },
  'load:resume': { input: empty, output: z.null() },
  /** The event log as JSON lines, for export. */
  'events:export': { input: empty, output: z.string() },
  /** Shuts the pool down (ACPI, then force off) and exits; progress arrives as `quit:progress`. */
  'app:quit': { input: empty, output: z.null() },
} as const;

export type CommandName = keyof typeof commands;
export type CommandInput<C extends CommandName> = z.input<(typeof commands)[C]['input']>;
export type CommandOutput<C extends CommandName> = z.output<(typeof commands)[C]['output']>;
/** A command's payload after parsing (defaults filled in): what a handler receives. */
export type CommandParsed<C extends CommandName> = z.output<(typeof commands)[C]['input']>;
/** One handler per command, typed from the contract end to end. */
export type CommandHandlers = { [C in CommandName]: (input: CommandParsed<C>) => CommandOutput<C> | Promise<CommandOutput<C>> };
export const commandNames = Object.keys(commands) as CommandName[];

// ---- push events: app → UI

export const pushEvents = {
  /** The app state, at most ~10 times a second (coalesced). */
  'state:update': appStateSchema,
  /** One metrics sample a second. */
  'metrics:sample': sampleSchema,
  /** Log entries at info and above: decisions with reasons, failures, replacements. */
  'events:entry': logEntrySchema,
  /** A failed action, naming the VM and libvirt's message. */
  'notify:error': z.object({ title: z.string(), message: z.string(), vm: z.string().nullable() }),
  /** Pool shutdown at quit: members done out of total. */
  'quit:progress': z.object({ done: z.number(), total: z.number(), finished: z.boolean() }),
} as const;

export type PushEventName = keyof typeof pushEvents;
export type PushEventPayload<E extends PushEventName> = z.output<(typeof pushEvents)[E]>;
export const pushEventNames = Object.keys(pushEvents) as PushEventName[];

// ---- the envelope every handler answers with

export const errorCodes = ['bad_request', 'unknown_channel', 'forbidden', 'not_found', 'invalid_state', 'libvirt', 'internal', 'unavailable'] as const;
export type ContractErrorCode = (typeof errorCodes)[number] | string;

export type Result<T> = { ok: true; value: T } | { ok: false; error: { code: ContractErrorCode; message: string } };

export const resultSchema = z.union([
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) }),
]);

/** An error with a stable code, as the UI sees it (the preload and web client throw these). */
export class ContractError extends Error {
  constructor(
    readonly code: ContractErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ContractError';
  }
}

/** Formats zod issues as `path: message`, so an error names the failing field. */
export function describeIssues(error: z.ZodError): string {
  return error.issues.map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(payload)'}: ${issue.message}`).join('; ');
}

/** Parses a command payload; a failure becomes a bad_request naming the field. */
export function parseCommandInput<C extends CommandName>(channel: C, payload: unknown): Result<z.output<(typeof commands)[C]['input']>> {
  const parsed = commands[channel].input.safeParse(payload ?? {});
  if (parsed.success) return { ok: true, value: parsed.data as z.output<(typeof commands)[C]['input']> };
  return { ok: false, error: { code: 'bad_request', message: `${channel}: ${describeIssues(parsed.error)}` } };
}

export function isCommandName(value: unknown): value is CommandName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(commands, value);
}

/** The API both carriers expose to the renderer (preload over IPC, web client over WebSocket). */
export interface CmsApi {
  invoke<C extends CommandName>(channel: C, payload: CommandInput<C>): Promise<CommandOutput<C>>;
  on<E extends PushEventName>(event: E, listener: (payload: PushEventPayload<E>) => void): () => void;
  /** 'desktop' under Electron, 'web' in a browser. */
  readonly carrier: 'desktop' | 'web';
}

// ---- the web mode's WebSocket framing (one JSON message per WebSocket message)
// The page is served at `/?token=T`; the socket connects to `/ws?token=T` from the same origin.

export const wsClientMessageSchema = z.object({
  kind: z.literal('invoke'),
  /** Chosen by the client; echoed in the result. */
  id: z.number().int().nonnegative(),
  channel: z.string(),
  payload: z.unknown(),
});
export type WsClientMessage = z.infer<typeof wsClientMessageSchema>;

export const wsServerMessageSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('result'), id: z.number().int().nonnegative(), result: resultSchema }),
  z.object({ kind: z.literal('event'), event: z.string(), payload: z.unknown() }),
]);
export type WsServerMessage = z.infer<typeof wsServerMessageSchema>;
