import { Link } from 'react-router-dom';
import { useToasts } from '../hooks/useToasts';
import { dismissToast } from '../lib/toastStore';

export function ToastHost() {
  const toasts = useToasts();
  return (
    <div className="toasts" aria-live="polite">
      {toasts.map((t) => (
        <div key={t.id} className={`toast toast-${t.kind}`} role={t.kind === 'error' ? 'alert' : 'status'} data-testid="toast">
          <div className="toast-head">
            <strong>{t.title}</strong>
            <button type="button" className="toast-close" aria-label="Dismiss" onClick={() => dismissToast(t.id)}>
              ×
            </button>
          </div>
          {t.body && <div className="toast-body mono">{t.body}</div>}
          {t.link && (
            <Link className="toast-link" to={t.link.to} onClick={() => dismissToast(t.id)}>
              {t.link.label} →
            </Link>
          )}
        </div>
      ))}
    </div>
  );
}
