// A modal confirmation built on <dialog>.showModal(): focus is trapped, Escape cancels, and the page
// behind stays inert. Used for destructive VM actions, removing a host and quitting (never window.confirm).
import { useEffect, useRef, type ReactNode } from 'react';

export interface ConfirmDialogProps {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  /** Red confirm button for actions that lose work. */
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}

export function ConfirmDialog(props: ConfirmDialogProps) {
  const ref = useRef<HTMLDialogElement | null>(null);
  const { open, onCancel } = props;

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (open && !dialog.open) dialog.showModal();
    if (!open && dialog.open) dialog.close();
  }, [open]);

  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    // Escape closes a modal dialog natively; report it as a cancel so the owner's state follows.
    const onClose = (): void => {
      if (open) onCancel();
    };
    dialog.addEventListener('cancel', onClose);
    return () => dialog.removeEventListener('cancel', onClose);
  }, [open, onCancel]);

  return (
    <dialog ref={ref} className="confirm-dialog" data-testid="confirm-dialog" aria-labelledby="confirm-title">
      {open && (
        <form method="dialog" onSubmit={(event) => event.preventDefault()}>
          <h2 id="confirm-title">{props.title}</h2>
          <div className="confirm-body">{props.children}</div>
          <div className="dialog-buttons">
            {/* A dangerous action starts with Cancel focused, so a stray Enter does not confirm it. */}
            <button type="button" data-testid="confirm-cancel" onClick={props.onCancel} autoFocus={props.danger === true}>
              Cancel
            </button>
            <button type="button" className={props.danger ? 'danger' : 'primary'} data-testid="confirm-ok" onClick={props.onConfirm} autoFocus={props.danger !== true}>
              {props.confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
