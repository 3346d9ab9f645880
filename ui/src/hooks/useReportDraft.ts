import { useEffect, useRef } from 'react';

/** Reports a form's fields (URL parameters) whenever they change: the Actions page keeps them
 * in the URL and sessionStorage (src/lib/actionDrafts.ts). */
export function useReportDraft(fields: URLSearchParams, onDraft: (fields: URLSearchParams) => void): void {
  const text = fields.toString();
  const sink = useRef(onDraft);
  sink.current = onDraft;
  useEffect(() => {
    sink.current(new URLSearchParams(text));
  }, [text]);
}
