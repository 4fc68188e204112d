// Error notifications (notify:error pushes and failed commands): each names the VM when there is one
// and shows libvirt's message; they stack in a corner and leave after a while or when dismissed.
import { memo, useEffect } from 'react';
import { useApp, useStoreApi } from '../context';
import type { Notification } from '../store/events-slice';

/** How long a notification stays, ms. */
const NOTIFICATION_TTL_MS = 15_000;

const Toast = memo(function Toast(props: { note: Notification }) {
  const store = useStoreApi();
  const { note } = props;
  useEffect(() => {
    const timer = setTimeout(() => store.getState().dismissNotification(note.id), NOTIFICATION_TTL_MS);
    return () => clearTimeout(timer);
  }, [store, note.id]);
  return (
    <div className="toast" role="alert" data-testid="notification" data-vm={note.vm ?? ''}>
      <div className="toast-title">
        {note.vm && <span className="toast-vm">{note.vm}</span>}
        {note.title}
      </div>
      <div className="toast-message">{note.message}</div>
      <button type="button" className="icon-button" aria-label="Dismiss" onClick={() => store.getState().dismissNotification(note.id)}>
        ×
      </button>
    </div>
  );
});

export function Notifications() {
  const notes = useApp((s) => s.notifications);
  return (
    <div className="toasts" aria-live="assertive">
      {notes.map((note) => (
        <Toast key={note.id} note={note} />
      ))}
    </div>
  );
}
