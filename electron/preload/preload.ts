// The preload (sandboxed, bundled to dist/electron/preload.cjs; it may only require 'electron'):
// exposes `window.cms`, the contract's CmsApi over IPC, through contextBridge. Never raw ipcRenderer:
// the page can call contract commands and listen to contract events, nothing else.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { commandNames, ContractError, pushEventNames, resultSchema, type CmsApi, type CommandName, type CommandOutput, type PushEventName, type PushEventPayload, type Result } from '../contract/contract';

const commands = new Set<string>(commandNames);
const events = new Set<string>(pushEventNames);

/** One command as the Result envelope; never rejects. */
async function invokeResult(channel: string, payload: unknown): Promise<Result<unknown>> {
  if (!commands.has(channel)) return { ok: false, error: { code: 'unknown_channel', message: `unknown channel ${JSON.stringify(channel)}` } };
  try {
    const answer: unknown = await ipcRenderer.invoke(channel, payload);
    const parsed = resultSchema.safeParse(answer);
    if (parsed.success) return parsed.data as Result<unknown>;
    return { ok: false, error: { code: 'internal', message: `${channel}: malformed answer from the app` } };
  } catch (error) {
    // Only reached if main has no handler or the payload cannot be cloned; main's handlers never throw.
    return { ok: false, error: { code: 'internal', message: `${channel}: ${error instanceof Error ? error.message : String(error)}` } };
  }
}

/**
 * contextBridge copies only an Error's message into the page, not its `code`: the message therefore
 * starts with `[code] `, and the page can use `invokeResult` to get the code as data.
 */
async function invoke<C extends CommandName>(channel: C, payload: unknown): Promise<CommandOutput<C>> {
  const result = await invokeResult(channel, payload);
  if (result.ok) return result.value as CommandOutput<C>;
  throw new ContractError(result.error.code, `[${result.error.code}] ${result.error.message}`);
}

function on<E extends PushEventName>(event: E, listener: (payload: PushEventPayload<E>) => void): () => void {
  if (!events.has(event)) throw new ContractError('unknown_channel', `[unknown_channel] unknown event ${JSON.stringify(event)}`);
  if (typeof listener !== 'function') throw new ContractError('bad_request', '[bad_request] listener must be a function');
  const forward = (_event: IpcRendererEvent, payload: unknown): void => listener(payload as PushEventPayload<E>);
  ipcRenderer.on(event, forward);
  return () => {
    ipcRenderer.removeListener(event, forward);
  };
}

const api: CmsApi & { invokeResult: typeof invokeResult } = { carrier: 'desktop', invoke, on, invokeResult };
contextBridge.exposeInMainWorld('cms', api);
