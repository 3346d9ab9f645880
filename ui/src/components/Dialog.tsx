// A modal dialog (rollback confirmation, dataset create/upload/delete): focus goes to the first
// field or button when it opens, Escape and the backdrop close it, focus returns to the opener.
import { useEffect, useId, useRef, type ReactNode } from 'react';

export function Dialog(props: { title: string; onClose: () => void; children: ReactNode; testId?: string | undefined; wide?: boolean }) {
  const ref = useRef<HTMLDivElement>(null);
  const titleId = useId();
  const { onClose } = props;
  useEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const first = ref.current?.querySelector<HTMLElement>('input, textarea, select, button:not(.dialog-close)');
    first?.focus();
    return () => opener?.focus?.();
  }, []);
  return (
    <div className="modal-backdrop" onClick={onClose}>
      <div
        ref={ref}
        className={`modal${props.wide ? ' modal-wide' : ''}`}
        role="dialog"
        aria-modal="true"
        aria-labelledby={titleId}
        data-testid={props.testId}
        onClick={(e) => e.stopPropagation()}
        onKeyDown={(e) => {
          if (e.key === 'Escape') onClose();
        }}
      >
        <div className="modal-head">
          <h2 id={titleId}>{props.title}</h2>
          <button type="button" className="toast-close dialog-close" aria-label="Close" onClick={onClose}>
            ×
          </button>
        </div>
        {props.children}
      </div>
    </div>
  );
}

/** A yes/no question: `confirmLabel` does it, Cancel does nothing. */
export function ConfirmDialog(props: { title: string; children: ReactNode; confirmLabel: string; danger?: boolean; busy?: boolean; onConfirm: () => void; onCancel: () => void; testId?: string }) {
  return (
    <Dialog title={props.title} onClose={props.onCancel} testId={props.testId}>
      <div className="modal-body">{props.children}</div>
      <DialogActions label={props.confirmLabel} danger={props.danger} disabled={props.busy} onCancel={props.onCancel} onConfirm={props.onConfirm} />
    </Dialog>
  );
}

/** Cancel and the dialog's action: a submit button inside a form when `onConfirm` is absent. */
export function DialogActions(props: { label: string; onCancel: () => void; onConfirm?: () => void; danger?: boolean | undefined; disabled?: boolean | undefined }) {
  return (
    <div className="form-actions">
      <button type="button" className="btn" onClick={props.onCancel}>
        Cancel
      </button>
      <button type={props.onConfirm ? 'button' : 'submit'} className={`btn ${props.danger ? 'btn-danger' : 'btn-primary'}`} disabled={props.disabled} onClick={props.onConfirm}>
        {props.label}
      </button>
    </div>
  );
}
