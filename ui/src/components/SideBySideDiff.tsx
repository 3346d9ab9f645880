// A unified diff (the server's /api/configs/diff, or jsdiff's for an unsaved edit) shown as two
// columns: the old version on the left, the new on the right, changed lines paired row by row.
import { parsePatch } from 'diff';

interface Cell {
  n: number | null;
  text: string;
  kind: 'ctx' | 'del' | 'add' | 'none';
}

export interface DiffRow {
  left: Cell;
  right: Cell;
  /** a hunk header row ("@@ -3,4 +3,4 @@") */
  hunk?: string;
}

const EMPTY: Cell = { n: null, text: '', kind: 'none' };

/** The rows of a unified diff: context on both sides, each run of removed lines paired with the
 * run of added lines that follows it. */
export function diffRows(unified: string): DiffRow[] {
  if (!unified.trim()) return [];
  const rows: DiffRow[] = [];
  for (const file of parsePatch(unified)) {
    for (const h of file.hunks) {
      rows.push({ left: EMPTY, right: EMPTY, hunk: `@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@` });
      let ln = h.oldStart;
      let rn = h.newStart;
      let dels: Cell[] = [];
      let adds: Cell[] = [];
      const flush = () => {
        for (let i = 0; i < Math.max(dels.length, adds.length); i++) rows.push({ left: dels[i] ?? EMPTY, right: adds[i] ?? EMPTY });
        dels = [];
        adds = [];
      };
      for (const line of h.lines) {
        const tag = line[0];
        const text = line.slice(1);
        if (tag === '\\') continue; // "\ No newline at end of file"
        if (tag === '-') dels.push({ n: ln++, text, kind: 'del' });
        else if (tag === '+') adds.push({ n: rn++, text, kind: 'add' });
        else {
          flush();
          rows.push({ left: { n: ln++, text, kind: 'ctx' }, right: { n: rn++, text, kind: 'ctx' } });
        }
      }
      flush();
    }
  }
  return rows;
}

function Side({ cell, side }: { cell: Cell; side: 'left' | 'right' }) {
  const mark = cell.kind === 'del' ? '−' : cell.kind === 'add' ? '+' : '';
  return (
    <>
      <td className={`diff-n diff-${cell.kind}`}>{cell.n ?? ''}</td>
      <td className={`diff-text diff-${cell.kind}`} data-side={side} data-kind={cell.kind}>
        {mark && <span className="sr-only">{cell.kind === 'del' ? 'removed: ' : 'added: '}</span>}
        <span aria-hidden>{mark}</span>
        {cell.text}
      </td>
    </>
  );
}

export function SideBySideDiff(props: { diff: string; fromLabel: string; toLabel: string; caption?: string }) {
  const rows = diffRows(props.diff);
  if (rows.length === 0) return <p className="muted" data-testid="diff-empty">The two versions are identical.</p>;
  return (
    <div className="table-wrap diff-wrap">
      <table className="table diff-table" data-testid="diff-table">
        {props.caption && <caption className="sr-only">{props.caption}</caption>}
        <colgroup>
          <col className="diff-col-n" />
          <col />
          <col className="diff-col-n" />
          <col />
        </colgroup>
        <thead>
          <tr>
            <th scope="col" colSpan={2}>
              {props.fromLabel}
            </th>
            <th scope="col" colSpan={2}>
              {props.toLabel}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r, i) =>
            r.hunk ? (
              <tr key={i} className="diff-hunk">
                <td colSpan={4} className="mono muted">
                  {r.hunk}
                </td>
              </tr>
            ) : (
              <tr key={i}>
                <Side cell={r.left} side="left" />
                <Side cell={r.right} side="right" />
              </tr>
            ),
          )}
        </tbody>
      </table>
    </div>
  );
}
