// The framing between the Electron main process and the control-plane process it forks (Electron's
// utilityProcess): the WebSocket framing of the contract, plus three lifecycle messages. Messages
// are structured-cloned, not JSON; each side still parses what it receives.
import { z } from 'zod';
import { wsServerMessageSchema } from '../../contract/contract';
import { parseControlPlaneConfig, type ControlPlaneConfig } from '../service/config';

/** Control plane → main. */
export const backendMessageSchema = z.union([
  wsServerMessageSchema,
  /** startApp finished: commands may flow. */
  z.object({ kind: z.literal('ready'), sandbox: z.boolean() }),
  /** startApp failed; the process exits after sending this. */
  z.object({ kind: z.literal('failed'), message: z.string() }),
  /** The pool is shut down and the hosts closed; the process exits after sending this. */
  z.object({ kind: z.literal('stopped') }),
]);
export type BackendMessage = z.infer<typeof backendMessageSchema>;

/** What the control-plane process starts with (passed in its environment as JSON). */
export const launchSchema = z.strictObject({
  uris: z.array(z.string().min(1)).max(64),
  config: z.unknown(),
  logPath: z.string().min(1),
});
export interface Launch {
  uris: string[];
  config: ControlPlaneConfig;
  logPath: string;
}

/** The environment variable that carries the launch JSON. */
export const LAUNCH_ENV = 'CMS_LAUNCH_JSON';

export class LaunchError extends Error {
  readonly code = 'launch_invalid';
  constructor(message: string) {
    super(message);
    this.name = 'LaunchError';
  }
}

/** Parses the launch JSON; errors name the failing field. */
export function parseLaunch(text: string | undefined): Launch {
  if (text === undefined || text === '') throw new LaunchError(`${LAUNCH_ENV} is not set`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LaunchError(`${LAUNCH_ENV} is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = launchSchema.safeParse(value);
  if (!parsed.success) throw new LaunchError(`${LAUNCH_ENV}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return { uris: parsed.data.uris, logPath: parsed.data.logPath, config: parseControlPlaneConfig(parsed.data.config, LAUNCH_ENV) };
}
