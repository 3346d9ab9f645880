// Display formats used across pages (`120d / 20%`, percentages, `1.23x`, `tp / fp`).

const DASH = '—';

function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** 0.1234 -> "12.3%" (digits after the point configurable). */
export function fmtPct(v: number | null | undefined, digits = 1): string {
  return isNum(v) ? `${(v * 100).toFixed(digits)}%` : DASH;
}

/** Threshold percentages drop a trailing ".0": 0.2 -> "20%", 0.025 -> "2.5%". */
function compactPct(v: number): string {
  const p = Math.round(v * 1000) / 10;
  return `${Number.isInteger(p) ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** Label horizon and threshold: (120, 0.2) -> "120d / 20%". */
export function fmtLabel(horizonDays: number | null | undefined, threshold: number | null | undefined): string {
  const h = isNum(horizonDays) ? `${horizonDays}d` : DASH;
  const t = isNum(threshold) ? compactPct(threshold) : DASH;
  return `${h} / ${t}`;
}

/** Lift: 1.234 -> "1.23x". */
export function fmtLift(v: number | null | undefined): string {
  return isNum(v) ? `${v.toFixed(2)}x` : DASH;
}

export function fmtInt(v: number | null | undefined): string {
  return isNum(v) ? Math.round(v).toLocaleString('en-US') : DASH;
}

export function fmtNum(v: number | null | undefined, digits = 2): string {
  return isNum(v) ? v.toFixed(digits) : DASH;
}

export function fmtMoney(v: number | null | undefined): string {
  return isNum(v) ? v.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 }) : DASH;
}

/** "tp / fp" */
export function fmtTpFp(tp: number | null | undefined, fp: number | null | undefined): string {
  return `${isNum(tp) ? tp : DASH} / ${isNum(fp) ? fp : DASH}`;
}

/** Hover text for the tp/fp cell. */
export function fmtConfusionTitle(tp: number | null | undefined, fp: number | null | undefined, tn: number | null | undefined, fn: number | null | undefined): string {
  const s = (v: number | null | undefined) => (isNum(v) ? String(v) : DASH);
  return `tp ${s(tp)} · fp ${s(fp)} · tn ${s(tn)} · fn ${s(fn)}`;
}

/** Seconds -> "850ms", "42.0s", "3m 05s", "2h 03m". */
export function fmtDuration(sec: number | null | undefined): string {
  if (!isNum(sec) || sec < 0) return DASH;
  if (sec < 1) return `${Math.round(sec * 1000)}ms`;
  if (sec < 60) return `${sec.toFixed(1)}s`;
  const m = Math.floor(sec / 60);
  if (m < 60) return `${m}m ${String(Math.floor(sec % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

/** ISO timestamp -> "2026-11-21 05:30:56" (local time); passes through unparseable text. */
export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return DASH;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

export function fmtBytes(n: number | null | undefined): string {
  if (!isNum(n)) return DASH;
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

interface PredictedCounts {
  precision?: number | null | undefined;
  lift?: number | null | undefined;
  tp?: number | null | undefined;
  fp?: number | null | undefined;
}

/** Whether a model predicted any positive on its test rows (tp + fp > 0); unknown counts count as yes. */
export function predictedAnyPositive(r: PredictedCounts): boolean {
  return !(isNum(r.tp) && isNum(r.fp) && r.tp + r.fp === 0);
}

/** Precision of a model row; "—" when it predicted no positive (the server's 0 is a zero division, not a score). */
export function fmtModelPrecision(r: PredictedCounts, digits = 1): string {
  return predictedAnyPositive(r) ? fmtPct(r.precision, digits) : DASH;
}

/** Lift of a model row; "—" when it predicted no positive. */
export function fmtModelLift(r: PredictedCounts): string {
  return predictedAnyPositive(r) ? fmtLift(r.lift) : DASH;
}
