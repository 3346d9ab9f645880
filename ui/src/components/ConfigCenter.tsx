// CONTRACT STUB (base18): replaced by the config center (managed files of one tool, or of every
// tool when `tool` is absent: list with hash/mtime/drift, editor, .env fields with masking,
// history, diff, rollback behind a confirmation, Test buttons). Used by the RD-Agent page's
// "Config center" tab (tool="rdagent") and by the Configs page (no tool).
export interface ConfigCenterProps {
  tool?: string;
}

export function ConfigCenter(_props: ConfigCenterProps) {
  return <section aria-label="Config center" />;
}
