import type { JobStatus } from '../types/api';

export function StatusBadge({ status }: { status: JobStatus | string }) {
  const s = String(status).toUpperCase();
  return (
    <span className={`badge badge-${s.toLowerCase()}`} data-status={s}>
      {s}
    </span>
  );
}
