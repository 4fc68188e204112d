// Answers one invoke message from an untrusted carrier (a WebSocket client, or the Electron main
// process talking to the control-plane process): parse the frame, let the service parse the payload,
// return the result frame. Never throws: every failure is a result with a code.
import { wsClientMessageSchema, describeIssues, type Result, type WsServerMessage } from '../../contract/contract';
import type { CmsService } from '../service/service';

/** The two service methods a carrier needs; a real CmsService or a proxy of one. */
export type ServiceLike = Pick<CmsService, 'handle' | 'subscribe'>;

function refused(id: number, code: string, message: string): WsServerMessage {
  return { kind: 'result', id, result: { ok: false, error: { code, message } } };
}

/** The id a malformed message carried, if it carried a usable one (so the client can match the error); else 0. */
function salvageId(value: unknown): number {
  if (typeof value === 'object' && value !== null && 'id' in value) {
    const id = (value as { id: unknown }).id;
    if (typeof id === 'number' && Number.isSafeInteger(id) && id >= 0) return id;
  }
  return 0;
}

/** Answers an already-decoded message (structured clone, or JSON.parse output). */
export async function answerClientValue(service: Pick<ServiceLike, 'handle'>, value: unknown): Promise<WsServerMessage> {
  const parsed = wsClientMessageSchema.safeParse(value);
  if (!parsed.success) return refused(salvageId(value), 'bad_request', `message: ${describeIssues(parsed.error)}`);
  let result: Result<unknown>;
  try {
    result = await service.handle(parsed.data.channel, parsed.data.payload);
  } catch (error) {
    // CmsService.handle does not throw; a proxy might. Either way the client gets a code, not a crash.
    result = { ok: false, error: { code: 'internal', message: error instanceof Error ? error.message : String(error) } };
  }
  return { kind: 'result', id: parsed.data.id, result };
}

/** Answers one text frame: JSON first, then the frame schema, then the service. */
export async function answerClientText(service: Pick<ServiceLike, 'handle'>, text: string): Promise<WsServerMessage> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refused(0, 'bad_request', `message is not JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  return answerClientValue(service, value);
}
