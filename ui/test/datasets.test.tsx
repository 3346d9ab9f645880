import { describe, expect, it } from 'vitest';
import { fireEvent, screen, within } from '@testing-library/react';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { DatasetsPage } from '../src/pages/Datasets';
import { DatasetsPanel } from '../src/components/DatasetsPanel';
import type { Dataset, DatasetLayoutReport } from '../src/hooks/useDatasets';

const ds = (name: string, over: Partial<Dataset> = {}): Dataset => ({
  name,
  format: 'csv',
  path: `data/${name}`,
  instruments_file: null,
  description: '',
  default: false,
  readonly: false,
  source: `datasets/${name}.yaml`,
  ...over,
});

const LIST = { items: [ds('demo', { readonly: true, source: 'alphalab.yaml' }), ds('mine', { default: true, instruments_file: 'datasets/mine.instruments.txt' })], default: 'mine' };
const report = (over: Partial<DatasetLayoutReport> = {}): DatasetLayoutReport => ({ ok: true, format: 'csv', calendar_days: 0, instruments_files: [], instruments: 3, missing: [], missing_count: 0, problems: [], ...over });
const created = (name: string) => ({ ...ds(name), validation: report(), instruments: ['A', 'B'] });

describe('DatasetsPanel', () => {
  it("lists datasets; alphalab.yaml's are read-only (no delete); the default is marked", async () => {
    new MockServer().on('GET', '/api/datasets', { body: LIST }).install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    const table = await screen.findByTestId('datasets-table');
    const demo = table.querySelector('tr[data-dataset=demo]') as HTMLElement;
    expect(demo.textContent).toContain('read-only');
    expect(within(demo).queryByRole('button', { name: 'Delete demo' })).toBeNull();
    const mine = table.querySelector('tr[data-dataset=mine]') as HTMLElement;
    expect(within(mine).getByText('default')).toBeTruthy();
    expect(within(mine).queryByRole('button', { name: 'Set default: mine' })).toBeNull();
    expect(within(demo).getByRole('button', { name: 'Set default: demo' })).toBeTruthy();
  });

  it('scope rdagent lists and uploads through the RD-Agent views', async () => {
    const m = new MockServer()
      .on('GET', '/api/rdagent/datasets', { body: LIST })
      .on('POST', '/api/rdagent/datasets/upload-instruments', { body: created('two') })
      .install();
    renderRoute(<DatasetsPanel scope="rdagent" />, '/x', '/x');
    await screen.findByTestId('datasets-table');
    fireEvent.click(screen.getByRole('button', { name: 'Upload instruments' }));
    const dialog = await screen.findByTestId('instruments-upload');
    fireEvent.change(within(dialog).getByLabelText('New dataset name'), { target: { value: 'two' } });
    fireEvent.change(within(dialog).getByLabelText(/Symbols, one per line/), { target: { value: 'A\nB\n' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Upload' }));
    await screen.findByText('Dataset two created');
    expect(m.callsTo('/api/rdagent/datasets/upload-instruments')[0]!.body).toEqual({ name: 'two', dataset: 'mine', content: 'A\nB\n', default: false });
    expect(m.callsTo('/api/datasets')).toHaveLength(0);
  });

  it('an upload with bad symbols shows each with its line and keeps the dialog open', async () => {
    new MockServer()
      .on('GET', '/api/datasets', { body: LIST })
      .on('POST', '/api/datasets/upload-instruments', {
        status: 400,
        body: {
          error: {
            code: 'INVALID_ARGUMENT',
            message: "2 symbol(s) refused; first: line 2 'NOPE': not in dataset 'mine'",
            details: { field: 'content', problems: [{ line: 2, symbol: 'NOPE', problem: "not in dataset 'mine'" }, { line: 4, symbol: 'A', problem: 'repeated (first on line 1)' }] },
          },
        },
      })
      .install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    await screen.findByTestId('datasets-table');
    fireEvent.click(screen.getByRole('button', { name: 'Upload instruments' }));
    const dialog = await screen.findByTestId('instruments-upload');
    fireEvent.change(within(dialog).getByLabelText('New dataset name'), { target: { value: 'bad' } });
    fireEvent.change(within(dialog).getByLabelText(/Symbols, one per line/), { target: { value: 'A\nNOPE\nB\nA\n' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Upload' }));
    const errs = await within(dialog).findByTestId('upload-errors');
    expect(errs.querySelector('tr[data-line="2"]')!.textContent).toBe("2NOPEnot in dataset 'mine'");
    expect(errs.querySelector('tr[data-line="4"]')!.textContent).toContain('repeated');
    expect(screen.getByTestId('instruments-upload')).toBeTruthy();
  });

  it('a picked .txt file fills the symbols and the name', async () => {
    new MockServer().on('GET', '/api/datasets', { body: LIST }).install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    await screen.findByTestId('datasets-table');
    fireEvent.click(screen.getByRole('button', { name: 'Upload instruments' }));
    const dialog = await screen.findByTestId('instruments-upload');
    const file = new File(['SH600000\nSH600001\n'], 'csi_small.txt', { type: 'text/plain' });
    fireEvent.change(within(dialog).getByLabelText(/pick a .txt file/), { target: { files: [file] } });
    await within(dialog).findByText('Loaded csi_small.txt');
    expect((within(dialog).getByLabelText(/Symbols, one per line/) as HTMLTextAreaElement).value).toBe('SH600000\nSH600001\n');
    expect((within(dialog).getByLabelText('New dataset name') as HTMLInputElement).value).toBe('csi_small');
  });

  it('create: a folder failing the layout check shows the report in the dialog', async () => {
    const m = new MockServer()
      .on('GET', '/api/datasets', { body: LIST })
      .on('POST', '/api/datasets', {
        status: 400,
        body: { error: { code: 'INVALID_ARGUMENT', message: 'path: not a valid qlib dataset', details: { field: 'path', report: report({ ok: false, format: 'qlib', problems: ['calendars/day.txt is missing'] }) } } },
      })
      .install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    fireEvent.click(await screen.findByRole('button', { name: 'New dataset' }));
    const dialog = await screen.findByTestId('dataset-create');
    fireEvent.change(within(dialog).getByLabelText('Name'), { target: { value: 'q' } });
    fireEvent.change(within(dialog).getByLabelText('Format'), { target: { value: 'qlib' } });
    fireEvent.change(within(dialog).getByLabelText(/provider_uri/), { target: { value: 'data/q' } });
    fireEvent.click(within(dialog).getByRole('button', { name: 'Create' }));
    expect((await within(dialog).findByTestId('layout-report')).textContent).toContain('calendars/day.txt is missing');
    expect(m.callsTo('/api/datasets').find((c) => c.method === 'POST')!.body).toEqual({ name: 'q', format: 'qlib', path: 'data/q', default: false });
  });

  it('delete asks first; a 409 while in use names the jobs and the dataset stays', async () => {
    const m = new MockServer()
      .on('GET', '/api/datasets', { body: LIST })
      .on('DELETE', '/api/datasets/mine', {
        status: 409,
        body: { error: { code: 'FAILED_PRECONDITION', message: "dataset 'mine' is in use by 1 queued or running job(s)", details: { job_ids: ['job_42'] } } },
      })
      .install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    fireEvent.click(await screen.findByRole('button', { name: 'Delete mine' }));
    const dialog = await screen.findByTestId('delete-dialog');
    fireEvent.click(within(dialog).getByRole('button', { name: 'Cancel' }));
    expect(m.callsTo('/api/datasets/mine')).toHaveLength(0);
    fireEvent.click(screen.getByRole('button', { name: 'Delete mine' }));
    fireEvent.click(within(await screen.findByTestId('delete-dialog')).getByRole('button', { name: 'Delete mine' }));
    const refused = await screen.findByTestId('delete-refused');
    expect(refused.textContent).toContain('in use');
    expect(within(refused).getByRole('link', { name: 'job_42' }).getAttribute('href')).toBe('/jobs/job_42');
    expect(screen.getByTestId('datasets-table').querySelector('tr[data-dataset=mine]')).toBeTruthy();
  });

  it('set default and the validation report', async () => {
    const m = new MockServer()
      .on('GET', '/api/datasets', { body: LIST })
      .on('POST', '/api/datasets/demo/default', { body: ds('demo', { default: true, readonly: true, source: 'alphalab.yaml' }) })
      .on('GET', '/api/datasets/demo/validation', { body: { ...report({ ok: false, missing: ['SPY.csv'], missing_count: 1 }), name: 'demo' } })
      .install();
    renderRoute(<DatasetsPage />, '/datasets', '/datasets');
    fireEvent.click(await screen.findByRole('button', { name: 'Set default: demo' }));
    await screen.findByText('demo is the default dataset');
    expect(m.callsTo('/api/datasets/demo/default')).toHaveLength(1);
    fireEvent.click(screen.getByRole('button', { name: 'Validate demo' }));
    const rep = await screen.findByTestId('layout-report');
    expect(rep.getAttribute('data-ok')).toBe('false');
    expect(rep.textContent).toContain('SPY.csv');
  });
});
