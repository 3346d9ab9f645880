// Actions keeps what was typed per tab: in the URL (rewritten in place) and in sessionStorage,
// across tab switches and navigating away and back; a prefill link still wins.
import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { ActionsPage, scoresOverrides } from '../src/pages/Actions';
import { draftUrlParams, fieldsOf, initialFields, loadDraft, saveDraft } from '../src/lib/actionDrafts';
import { MockServer } from './mockServer';
import { renderRoute } from './render';
import { BUILTIN_TYPES, job } from './fixtures';

const jobTypes = { body: { job_types: BUILTIN_TYPES } };
const input = (form: HTMLElement, name: string) => form.querySelector(`[name=${name}]`) as HTMLInputElement;
const type = (form: HTMLElement, name: string, value: string) => fireEvent.change(input(form, name), { target: { value } });

describe('draft helpers', () => {
  it('URL parameters win over the stored draft; the bare URL -> the stored draft', () => {
    saveDraft('backtest', new URLSearchParams('tickers=AAA&start=2011-01-01'));
    expect(initialFields('backtest', new URLSearchParams()).toString()).toBe('tickers=AAA&start=2011-01-01');
    expect(initialFields('backtest', new URLSearchParams('type=backtest')).toString()).toBe(''); // a link to the tab: its defaults
    expect(initialFields('backtest', new URLSearchParams('type=backtest&ticker=SPX')).toString()).toBe('ticker=SPX');
    expect(initialFields('train', new URLSearchParams('type=train')).toString()).toBe('');
    expect(fieldsOf([['a', 'x'], ['b', ''], ['c', true], ['d', false], ['e', undefined]]).toString()).toBe('a=x&c=1');
    expect(draftUrlParams('eval', new URLSearchParams('run_id=r1')).toString()).toBe('type=eval&run_id=r1');
  });

  it('a scores file becomes two overrides that replace the strategy params', () => {
    expect(scoresOverrides('  ', 'signal')).toEqual([]);
    expect(scoresOverrides('preds/my scores.csv', 'topn')).toEqual(['strategy.type=topn', 'strategy.params={"scores_path": "preds/my scores.csv"}']);
  });
});

describe('Actions drafts', () => {
  it('keeps each tab\'s fields across tab switches, in the URL and sessionStorage', async () => {
    new MockServer().on('GET', '/api/job-types', jobTypes).install();
    const { router } = renderRoute(<ActionsPage />, '/actions', '/actions?type=backtest');
    let form = screen.getByTestId('backtest-form');
    type(form, 'tickers', 'SPX,QQQ');
    type(form, 'start', '2012-01-03');
    fireEvent.change(within(form).getByLabelText(/Overrides/), { target: { value: 'fee_bps=5' } });
    const sp = new URLSearchParams(router.state.location.search);
    expect(sp.get('type')).toBe('backtest');
    expect(sp.get('tickers')).toBe('SPX,QQQ');
    expect(sp.get('start')).toBe('2012-01-03');
    expect(sp.get('overrides')).toBe('fee_bps=5');
    expect(loadDraft('backtest')!.get('tickers')).toBe('SPX,QQQ');

    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    form = screen.getByTestId('train-form');
    expect(input(form, 'config_path').value).toBe('configs/base.yaml');
    type(form, 'config_path', 'configs/mine.yaml');
    expect(new URLSearchParams(router.state.location.search).get('config_path')).toBe('configs/mine.yaml');

    fireEvent.click(screen.getByRole('tab', { name: 'Backtest' }));
    form = screen.getByTestId('backtest-form');
    expect(input(form, 'tickers').value).toBe('SPX,QQQ');
    expect(input(form, 'start').value).toBe('2012-01-03');
    expect((within(form).getByLabelText(/Overrides/) as HTMLTextAreaElement).value).toBe('fee_bps=5');

    fireEvent.click(screen.getByRole('tab', { name: 'Train' }));
    expect(input(screen.getByTestId('train-form'), 'config_path').value).toBe('configs/mine.yaml');
  });

  it('restores the last tab and its fields after navigating away and back to /actions', async () => {
    new MockServer().on('GET', '/api/job-types', jobTypes).install();
    const { router } = renderRoute(<ActionsPage />, '/actions', '/actions?type=eval');
    type(screen.getByTestId('eval-form'), 'run_id', 'run_kept');
    await router.navigate('/somewhere');
    await screen.findByTestId('elsewhere');
    await router.navigate('/actions');
    const form = await screen.findByTestId('eval-form');
    expect(screen.getByRole('tab', { name: 'Eval Metrics' }).getAttribute('aria-selected')).toBe('true');
    expect(input(form, 'run_id').value).toBe('run_kept');
    expect(new URLSearchParams(router.state.location.search).get('run_id')).toBe('run_kept');
    // Back to a prefill link: the link's values, not the draft.
    await router.navigate('/actions?type=eval&run_id=run_from_link');
    await waitFor(() => expect(input(screen.getByTestId('eval-form'), 'run_id').value).toBe('run_from_link'));
    // The form reports its new fields to the page after it shows them (an effect): the draft follows.
    await waitFor(() => expect(loadDraft('eval')!.get('run_id')).toBe('run_from_link'));
  });

  it('typing keeps the focus (the form is not rebuilt when the page rewrites the URL)', () => {
    new MockServer().on('GET', '/api/job-types', jobTypes).install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=backtest');
    const before = input(screen.getByTestId('backtest-form'), 'tickers');
    before.focus();
    type(screen.getByTestId('backtest-form'), 'tickers', 'S');
    type(screen.getByTestId('backtest-form'), 'tickers', 'SP');
    const after = input(screen.getByTestId('backtest-form'), 'tickers');
    expect(after).toBe(before);
    expect(document.activeElement).toBe(after);
  });

  it('a scores-file backtest sends the scores overrides first; a model and a scores file together are refused', async () => {
    const s = new MockServer()
      .on('POST', '/api/jobs/backtest', { body: job({ job_id: 'job_scores', job_type: 'backtest', status: 'QUEUED', started_at: null, ended_at: null, duration_sec: null, exit_code: null }) })
      .on('GET', '/api/job-types', jobTypes)
      .install();
    renderRoute(<ActionsPage />, '/actions', '/actions?type=backtest&scores_path=preds/scores.csv&tickers=SPX');
    const form = screen.getByTestId('backtest-form');
    expect(input(form, 'scores_path').value).toBe('preds/scores.csv');
    fireEvent.change(form.querySelector('[name=scores_strategy]')!, { target: { value: 'topn' } });
    fireEvent.change(within(form).getByLabelText(/Overrides/), { target: { value: 'strategy.params.top_n=1' } });
    type(form, 'model_path', 'runs/r1/model.json');
    expect(screen.getByTestId('scores-model-conflict')).toBeTruthy();
    expect((screen.getByRole('button', { name: 'Submit backtest job' }) as HTMLButtonElement).disabled).toBe(true);
    type(form, 'model_path', '');
    fireEvent.click(screen.getByRole('button', { name: 'Submit backtest job' }));
    await screen.findByText('job_scores', { selector: '.toast-body' });
    expect(s.callsTo('/api/jobs/backtest')[0]!.body).toEqual({
      config_path: 'configs/backtest/base.yaml',
      tickers: ['SPX'],
      overrides: ['strategy.type=topn', 'strategy.params={"scores_path": "preds/scores.csv"}', 'strategy.params.top_n=1'],
      dry_run: false,
    });
  });
});
