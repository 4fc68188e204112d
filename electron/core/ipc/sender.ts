// Decides whether an IPC invoke comes from our own UI: the main frame of our window, showing a page
// of the app's own origin (app://cms). Plain Node: the event is described by the few fields we read,
// so tests hand in plain objects and Electron's IpcMainInvokeEvent fits as is.

/** The parts of Electron's WebFrameMain the check reads. */
export interface FrameLike {
  readonly url: string;
  readonly parent: FrameLike | null;
}

/** The parts of Electron's IpcMainInvokeEvent the check reads. */
export interface InvokeEventLike {
  readonly sender: { readonly id: number };
  /** null when the frame has navigated away or been destroyed since it sent the message. */
  readonly senderFrame: FrameLike | null;
}

/** A reason to refuse, or null when the sender is trusted. */
export type SenderCheck = (event: InvokeEventLike) => string | null;

export interface SenderPolicy {
  /** The app's own origin, scheme://host (e.g. 'app://cms'). */
  origin: string;
  /** The webContents ids allowed to call (our window's); read at each call since windows come and go. */
  webContentsIds: () => Iterable<number>;
}

/** scheme://host of a URL, computed by hand: WHATWG URL gives 'null' as the origin of non-special schemes like app:. */
export function urlOrigin(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.host === '') return null;
    return `${parsed.protocol}//${parsed.host}`.toLowerCase();
  } catch {
    return null;
  }
}

export function createSenderCheck(policy: SenderPolicy): SenderCheck {
  const origin = policy.origin.toLowerCase();
  return (event) => {
    const frame = event.senderFrame;
    if (frame === null) return 'the sending frame is gone';
    if (frame.parent !== null) return 'only the main frame may call the app';
    const from = urlOrigin(frame.url);
    if (from !== origin) return `a page from ${from ?? 'an unknown origin'} may not call the app`;
    if (![...policy.webContentsIds()].includes(event.sender.id)) return 'the sender is not the app window';
    return null;
  };
}
