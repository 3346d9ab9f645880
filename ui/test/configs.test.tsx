import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { ConfigsPage } from '../src/pages/Configs';
import { ConfigCenter } from '../src/components/ConfigCenter';
import { diffRows } from '../src/components/SideBySideDiff';
import { entryLine, isSecretKey, parseEnv, serializeEnv, type EnvEntry } from '../src/lib/dotenv';
import type { ConfigFileInfo, ConfigHistoryEntry } from '../src/hooks/useConfigs';

const ENV = `# comment\nexport MAX_RETRY=10\n\nOPENAI_API_KEY="********"\nCHAT_MODEL='gpt-4o'   # the model\nPLAIN = a b  \nMULTI="one\ntwo"\n`;
const YAML = 'qlib_init:\n    provider_uri: "~/.qlib/qlib_data/cn_data"\n    region: cn\nmarket: &market csi300\n';
const SHA_A = 'a'.repeat(64);
const SHA_B = 'b'.repeat(64);

function fileInfo(over: Partial<ConfigFileInfo> = {}): ConfigFileInfo {
  return {
    path: 'rdagent:conf.yaml',
    tool: 'rdagent',
    file: 'conf.yaml',
    kind: 'yaml',
    readonly: false,
    exists: true,
    sha256: SHA_A,
    size: YAML.length,
    mtime: '2026-12-03T03:00:00Z',
    drift: false,
    history_count: 1,
    ...over,
  };
}

const envInfo = (over: Partial<ConfigFileInfo> = {}) => fileInfo({ path: 'rdagent:.env', file: '.env', kind: 'env', size: ENV.length, ...over });
const promptInfo = () => fileInfo({ path: 'rdagent:p/prompts.yaml', file: 'p/prompts.yaml', readonly: true });

const hist = (id: number, over: Partial<ConfigHistoryEntry> = {}): ConfigHistoryEntry => ({
  id,
  path: 'rdagent:conf.yaml',
  history_path: `history/20261203/1_manual_conf.yaml`,
  task_id: null,
  operator: 'local',
  sha256: SHA_B,
  note: 'before region',
  event: 'write',
  created_at: '2026-12-03T03:01:00Z',
  ...over,
});

function server(files: ConfigFileInfo[] = [fileInfo({ drift: true }), envInfo(), promptInfo()]) {
  return new MockServer()
    .on('GET', '/api/configs', { body: { tools: [{ name: 'rdagent', description: 'RD-Agent', root: 'tools/rdagent', files }] } })
    .on('GET', '/api/configs/file', (c) => {
      const p = c.url.searchParams.get('path');
      if (p === 'rdagent:.env') return { body: { ...envInfo(), content: ENV } };
      if (p === 'rdagent:p/prompts.yaml') return { body: { ...promptInfo(), content: 'x: 1\n' } };
      return { body: { ...fileInfo(), content: YAML } };
    })
    .on('GET', '/api/configs/history', (c) => ({ body: { path: c.url.searchParams.get('path'), items: [hist(3)], total: 1 } }));
}

const written = { path: 'rdagent:conf.yaml', sha256: SHA_B, previous_sha256: SHA_A, history_id: 4, drift_history_id: null, changed: true };

async function openYaml() {
  renderRoute(<ConfigsPage />, '/configs', '/configs');
  fireEvent.click(await screen.findByRole('button', { name: 'conf.yaml' }));
  return (await screen.findByTestId('config-textarea')) as HTMLTextAreaElement;
}

describe('.env model (lib/dotenv)', () => {
  it('round-trips a file byte for byte and keeps quotes, comments and multi-line values', () => {
    const lines = parseEnv(ENV);
    expect(serializeEnv(lines.map((l) => l.raw), true)).toBe(ENV);
    const entries = lines.filter((l): l is EnvEntry => l.kind === 'entry');
    expect(entries.map((e) => [e.key, e.value, e.quote])).toEqual([
      ['MAX_RETRY', '10', ''],
      ['OPENAI_API_KEY', '********', '"'],
      ['CHAT_MODEL', 'gpt-4o', "'"],
      ['PLAIN', 'a b', ''],
      ['MULTI', 'one\ntwo"', '"'],
    ]);
    expect(entries[4]!.multiline).toBe(true);
  });

  it('rewrites only the changed entry, keeping its quote style and trailing comment', () => {
    const e = parseEnv(ENV).filter((l): l is EnvEntry => l.kind === 'entry');
    expect(entryLine(e[2]!, 'gpt-4o')).toBe("CHAT_MODEL='gpt-4o'   # the model");
    expect(entryLine(e[2]!, 'gpt-4o-mini')).toBe("CHAT_MODEL='gpt-4o-mini'   # the model");
    expect(entryLine(e[0]!, '12')).toBe('export MAX_RETRY=12');
    expect(entryLine(e[0]!, 'has space')).toBe('export MAX_RETRY="has space"');
    expect(entryLine(e[1]!, 'sk-new"q')).toBe('OPENAI_API_KEY="sk-new\\"q"');
  });

  it('names secrets as the server does', () => {
    expect(['OPENAI_API_KEY', 'github-token', 'DB_PASSWORD', 'AWS_CREDENTIALS', 'secret'].every(isSecretKey)).toBe(true);
    expect(['KEYBOARD', 'CHAT_MODEL', 'MONKEY'].some(isSecretKey)).toBe(false);
  });
});

describe('side-by-side diff rows', () => {
  it('pairs removed and added lines and numbers both sides', () => {
    const unified = '--- a\n+++ b\n@@ -1,4 +1,3 @@\n a\n-b\n-c\n+B\n d\n\\ No newline at end of file\n';
    const rows = diffRows(unified);
    expect(rows[0]!.hunk).toBe('@@ -1,4 +1,3 @@');
    expect(rows.slice(1).map((r) => [r.left.n, r.left.kind, r.left.text, r.right.n, r.right.kind, r.right.text])).toEqual([
      [1, 'ctx', 'a', 1, 'ctx', 'a'],
      [2, 'del', 'b', 2, 'add', 'B'],
      [3, 'del', 'c', null, 'none', ''],
      [4, 'ctx', 'd', 3, 'ctx', 'd'],
    ]);
    expect(diffRows('')).toEqual([]);
  });
});

describe('ConfigCenter', () => {
  it('lists the files with short hash, drift and read-only badges', async () => {
    server().install();
    renderRoute(<ConfigCenter tool="rdagent" />, '/x', '/x');
    const table = await screen.findByTestId('config-files');
    const row = within(table).getByRole('button', { name: 'conf.yaml' }).closest('tr')!;
    expect(row.textContent).toContain(SHA_A.slice(0, 12));
    expect(row.textContent).not.toContain(SHA_A.slice(0, 13));
    expect(within(row).getByTestId('drift-badge')).toBeTruthy();
    expect(within(table).getByRole('button', { name: 'p/prompts.yaml' }).closest('tr')!.textContent).toContain('read-only');
  });

  it('saves with the hash it opened and a note; the history row and its metadata show', async () => {
    const m = server().on('PUT', '/api/configs/file', { body: written }).install();
    const ta = await openYaml();
    expect(await screen.findByText('before region')).toBeTruthy();
    fireEvent.change(ta, { target: { value: YAML.replace('region: cn', 'region: us') } });
    fireEvent.change(screen.getAllByLabelText(/Note/)[0]!, { target: { value: 'to us' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved conf.yaml');
    const put = m.callsTo('/api/configs/file').find((c) => c.method === 'PUT')!;
    expect(put.body).toEqual({ path: 'rdagent:conf.yaml', content: YAML.replace('region: cn', 'region: us'), base_sha256: SHA_A, note: 'to us' });
  });

  it('a 409 says the file changed since it was opened and names the current hash; nothing is lost', async () => {
    server()
      .on('PUT', '/api/configs/file', { status: 409, body: { error: { code: 'FAILED_PRECONDITION', message: 'stale base_sha256', details: { current_sha256: SHA_B } } } })
      .install();
    const ta = await openYaml();
    fireEvent.change(ta, { target: { value: 'mine: 1\n' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    const notice = await screen.findByTestId('stale-notice');
    expect(notice.textContent).toContain('changed since you opened it');
    expect(notice.textContent).toContain(SHA_B.slice(0, 12));
    expect((screen.getByTestId('config-textarea') as HTMLTextAreaElement).value).toBe('mine: 1\n');
    expect((screen.getByRole('button', { name: 'Save' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it("a 400 is shown beside the editor with its line", async () => {
    server()
      .on('PUT', '/api/configs/file', { status: 400, body: { error: { code: 'INVALID_ARGUMENT', message: 'content: not valid YAML', details: { field: 'content', line: 2 } } } })
      .install();
    const ta = await openYaml();
    fireEvent.change(ta, { target: { value: 'a: [\n' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByTestId('config-invalid')).textContent).toBe('Not saved: content: not valid YAML (line 2)');
  });

  it('.env as key fields: the secret stays ******** in what is sent; a key is added at the end', async () => {
    const m = server().on('PUT', '/api/configs/file', { body: { ...written, path: 'rdagent:.env' } }).install();
    renderRoute(<ConfigsPage />, '/configs', '/configs');
    fireEvent.click(await screen.findByRole('button', { name: '.env' }));
    const env = await screen.findByTestId('env-editor');
    expect((within(env).getByRole('textbox', { name: 'OPENAI_API_KEY' }) as HTMLInputElement).value).toBe('********');
    fireEvent.change(within(env).getByRole('textbox', { name: 'CHAT_MODEL' }), { target: { value: 'gpt-4o-mini' } });
    fireEvent.change(within(env).getByLabelText('New key'), { target: { value: 'NEW_ONE' } });
    fireEvent.change(within(env).getByLabelText('Value'), { target: { value: 'x' } });
    fireEvent.click(within(env).getByRole('button', { name: 'Add key' }));
    fireEvent.click(within(env).getByRole('button', { name: 'Remove MAX_RETRY' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await screen.findByText('Saved .env');
    const put = m.callsTo('/api/configs/file').find((c) => c.method === 'PUT')!;
    expect((put.body as { content: string }).content).toBe(
      `# comment\n\nOPENAI_API_KEY="********"\nCHAT_MODEL='gpt-4o-mini'   # the model\nPLAIN = a b  \nMULTI="one\ntwo"\nNEW_ONE=x\n`,
    );
  });

  it('refuses a key that is already there or not a key', async () => {
    server().install();
    renderRoute(<ConfigsPage />, '/configs', '/configs');
    fireEvent.click(await screen.findByRole('button', { name: '.env' }));
    const env = await screen.findByTestId('env-editor');
    fireEvent.change(within(env).getByLabelText('New key'), { target: { value: 'CHAT_MODEL' } });
    fireEvent.click(within(env).getByRole('button', { name: 'Add key' }));
    expect(within(env).getByRole('alert').textContent).toBe('CHAT_MODEL is already in the file');
    fireEvent.change(within(env).getByLabelText('New key'), { target: { value: '9X' } });
    fireEvent.click(within(env).getByRole('button', { name: 'Add key' }));
    expect(within(env).getByRole('alert').textContent).toContain("'9X' is not a key");
  });

  it('a read-only file is shown with a notice and no Save or rollback', async () => {
    server().install();
    renderRoute(<ConfigsPage />, '/configs', '/configs');
    fireEvent.click(await screen.findByRole('button', { name: 'p/prompts.yaml' }));
    expect(await screen.findByTestId('readonly-notice')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Save' })).toBeNull();
    await screen.findByText('before region');
    expect(screen.queryByRole('button', { name: /Roll back to/ })).toBeNull();
  });

  it('diff: the server diff as two columns; rollback: Cancel sends nothing, confirming sends the version', async () => {
    const m = server()
      .on('GET', '/api/configs/diff', { body: { path: 'rdagent:conf.yaml', from: '3', to: 'current', diff: '--- a\n+++ b\n@@ -1,2 +1,2 @@\n x\n-    region: cn\n+    region: us\n', added: 1, removed: 1 } })
      .on('POST', '/api/configs/rollback', { body: { ...written, rolled_back_to: 3 } })
      .install();
    await openYaml();
    fireEvent.click(await screen.findByRole('button', { name: 'Diff #3 with current' }));
    const table = await screen.findByTestId('diff-table');
    expect(table.querySelector('td[data-side=left][data-kind=del]')!.textContent).toContain('region: cn');
    expect(table.querySelector('td[data-side=right][data-kind=add]')!.textContent).toContain('region: us');
    expect(m.callsTo('/api/configs/diff')[0]!.url.search).toBe('?path=rdagent%3Aconf.yaml&from=3&to=current');

    fireEvent.click(screen.getByRole('button', { name: 'Roll back to #3' }));
    let dialog = await screen.findByRole('dialog');
    expect(dialog.textContent).toContain('#3');
    expect(dialog.textContent).toContain(SHA_B.slice(0, 12));
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(m.callsTo('/api/configs/rollback')).toHaveLength(0);

    fireEvent.click(screen.getByRole('button', { name: 'Roll back to #3' }));
    dialog = await screen.findByRole('dialog');
    fireEvent.change(within(dialog).getByLabelText(/Note/), { target: { value: 'undo' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Roll back to #3' }));
    await screen.findByText('Rolled back to #3');
    expect(m.callsTo('/api/configs/rollback')[0]!.body).toEqual({ path: 'rdagent:conf.yaml', history_id: 3, note: 'undo' });
  });

  it('Test buttons: the Qlib result lists what is missing, with a toast', async () => {
    const m = server()
      .on('POST', '/api/configs/check', {
        body: { tool: 'rdagent', check: 'qlib', ok: false, checks: { qlib: { ok: false, provider_uri: 'data/q', market: 'csi300', checked_instruments: 2, missing: ['features/sh600001/ (instrument SH600001)'], missing_count: 1 } } },
      })
      .install();
    renderRoute(<ConfigCenter tool="rdagent" />, '/x', '/x');
    const checks = await screen.findByTestId('checks-rdagent');
    fireEvent.change(within(checks).getByLabelText(/Qlib folder/), { target: { value: 'data/q' } });
    fireEvent.click(within(checks).getByRole('button', { name: 'Test Qlib layout' }));
    expect((await screen.findByTestId('qlib-missing')).textContent).toBe('features/sh600001/ (instrument SH600001)');
    expect(await screen.findByText('Qlib layout: problem')).toBeTruthy();
    expect(m.callsTo('/api/configs/check')[0]!.body).toEqual({ tool: 'rdagent', check: 'qlib', provider_uri: 'data/q' });
  });

  it('the consistency check names both files of a mismatch', async () => {
    server()
      .on('POST', '/api/configs/check', {
        body: { tool: 'rdagent', check: 'consistency', ok: false, checks: { consistency: { ok: false, mismatches: [{ key: 'market', file: 'b.yaml', value: 'csi500', expected: 'csi300', reference_file: 'a.yaml' }] } } },
      })
      .install();
    renderRoute(<ConfigCenter tool="rdagent" />, '/x', '/x');
    fireEvent.click(await screen.findByRole('button', { name: 'Test template consistency' }));
    const list = await screen.findByTestId('consistency-mismatches');
    expect(list.textContent).toBe('b.yaml: market is csi500, but a.yaml has csi300');
    await waitFor(() => expect(screen.getByText('Template consistency: problem')).toBeTruthy());
  });
});
