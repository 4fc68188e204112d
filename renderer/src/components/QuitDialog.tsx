// Quit: a confirmation, then the pool shutdown's progress (ACPI, then force off) from quit:progress
// pushes, shown over the whole window until the app has finished.
import { useCallback, useEffect, useRef, useState } from 'react';
import { runCommand } from '../api/bind';
import { useApi, useApp, useStoreApi } from '../context';
import { ConfirmDialog } from './ConfirmDialog';

export function QuitButton() {
  const api = useApi();
  const store = useStoreApi();
  const [asking, setAsking] = useState(false);
  const cancel = useCallback(() => setAsking(false), []);
  return (
    <>
      <button type="button" data-testid="quit" onClick={() => setAsking(true)}>
        Quit…
      </button>
      <ConfirmDialog
        open={asking}
        title="Shut down the pool and quit?"
        confirmLabel="Quit"
        danger
        onCancel={cancel}
        onConfirm={() => {
          setAsking(false);
          void runCommand(api, store, 'app:quit', {}, 'Quitting');
        }}
      >
        <p>The load stops, every pool member gets an ACPI shutdown (then a force off after a timeout), and the app exits.</p>
      </ConfirmDialog>
    </>
  );
}

export function QuitProgress() {
  const quitting = useApp((s) => s.quitting);
  const progress = useApp((s) => s.quitProgress);
  const ref = useRef<HTMLDialogElement | null>(null);
  const show = quitting || progress !== null;

  useEffect(() => {
    const dialog = ref.current;
    if (dialog && show && !dialog.open) dialog.showModal();
  }, [show]);

  return (
    <dialog ref={ref} className="quit-dialog" data-testid="quit-progress" onCancel={(event) => event.preventDefault()}>
      <h2>{progress?.finished ? 'The app has quit' : 'Shutting down the pool…'}</h2>
      {progress ? (
        <>
          <progress max={Math.max(1, progress.total)} value={progress.done} />
          <p>
            {progress.done} of {progress.total} VMs stopped{progress.finished ? '. You can close this window.' : ' (ACPI shutdown, then force off after the timeout)'}
          </p>
        </>
      ) : (
        <p>Stopping the load…</p>
      )}
    </dialog>
  );
}
