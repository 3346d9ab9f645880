export function Pager(props: { total: number; limit: number; offset: number; onChange: (offset: number) => void; onLimit?: (limit: number) => void }) {
  const { total, limit, offset } = props;
  const page = Math.floor(offset / limit) + 1;
  const pages = Math.max(1, Math.ceil(total / limit));
  const from = total === 0 ? 0 : offset + 1;
  const to = Math.min(total, offset + limit);
  return (
    <div className="pager" aria-label="Pagination">
      <span className="muted">
        {from.toLocaleString('en-US')}–{to.toLocaleString('en-US')} of {total.toLocaleString('en-US')}
      </span>
      <button type="button" className="btn btn-small" disabled={offset <= 0} onClick={() => props.onChange(0)} aria-label="First page">
        «
      </button>
      <button type="button" className="btn btn-small" disabled={offset <= 0} onClick={() => props.onChange(Math.max(0, offset - limit))}>
        Prev
      </button>
      <span>
        Page {page} / {pages}
      </span>
      <button type="button" className="btn btn-small" disabled={offset + limit >= total} onClick={() => props.onChange(offset + limit)}>
        Next
      </button>
      <button type="button" className="btn btn-small" disabled={offset + limit >= total} onClick={() => props.onChange((pages - 1) * limit)} aria-label="Last page">
        »
      </button>
      {props.onLimit && (
        <select value={limit} onChange={(e) => props.onLimit!(Number(e.target.value))} aria-label="Rows per page">
          {[25, 50, 100, 200].map((n) => (
            <option key={n} value={n}>
              {n} / page
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
