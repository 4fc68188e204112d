// The desktop carrier's router: one ipcMain handler per contract command. Each checks the sender
// frame, hands the payload to the service (which parses it) and answers the Result envelope. It never
// throws, so the page never sees Electron's generic "Error invoking remote method".
import { commandNames, isCommandName, type Result } from '../../contract/contract';
import type { ServiceLike } from './messages';
import type { InvokeEventLike, SenderCheck } from './sender';

/** The part of Electron's ipcMain the router uses; tests hand in a Map-backed object. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown> | unknown): void;
  removeHandler(channel: string): void;
}

export interface IpcRouterOptions {
  ipcMain: IpcMainLike;
  service: Pick<ServiceLike, 'handle'>;
  checkSender: SenderCheck;
  /** Told about every refused sender (it may be an attack; worth a log line). */
  onRefused?: (channel: string, reason: string) => void;
}

export interface IpcRouter {
  /** The channels registered (every contract command). */
  readonly channels: readonly string[];
  /** What a handler does, callable for any channel name (unknown ones are refused). */
  dispatch(event: InvokeEventLike, channel: unknown, args: readonly unknown[]): Promise<Result<unknown>>;
  /** Removes every handler. */
  dispose(): void;
}

export function registerIpcRouter(options: IpcRouterOptions): IpcRouter {
  const { ipcMain, service, checkSender } = options;

  async function dispatch(event: InvokeEventLike, channel: unknown, args: readonly unknown[]): Promise<Result<unknown>> {
    try {
      const refusal = checkSender(event);
      if (refusal !== null) {
        options.onRefused?.(String(channel), refusal);
        return { ok: false, error: { code: 'forbidden', message: `${String(channel)}: ${refusal}` } };
      }
      if (!isCommandName(channel)) return { ok: false, error: { code: 'unknown_channel', message: `unknown channel ${JSON.stringify(channel)}` } };
      if (args.length > 1) return { ok: false, error: { code: 'bad_request', message: `${channel}: takes one payload argument, got ${args.length}` } };
      return await service.handle(channel, args[0]);
    } catch (error) {
      return { ok: false, error: { code: 'internal', message: `${String(channel)}: ${error instanceof Error ? error.message : String(error)}` } };
    }
  }

  for (const channel of commandNames) {
    ipcMain.handle(channel, (event, ...args) => dispatch(event, channel, args));
  }
  return {
    channels: [...commandNames],
    dispatch,
    dispose() {
      for (const channel of commandNames) ipcMain.removeHandler(channel);
    },
  };
}
