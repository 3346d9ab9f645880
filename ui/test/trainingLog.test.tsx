// Run detail: the training/validation curve and feature importance of each model, from
// runs/<id>/training_log.json (GET /api/runs/{run_id}/files/training_log.json).
import { describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, within } from '@testing-library/react';
import { RunDetailPage } from '../src/pages/RunDetail';
import { curve, curveSummary, importance, logModels } from '../src/lib/trainingLog';
import type { Curve } from '../src/lib/trainingLog';
import type { TrainingLog, TrainingLogModel } from '../src/types/api';
import { MockServer } from './mockServer';
import { renderRoute } from './render';

vi.mock('../src/components/CurveChart', () => ({
  CurveChart: ({ c }: { c: Curve }) => (
    <ul data-testid="curve-mock">
      <li data-testid="curve-train">{c.rounds.map((r, i) => `${r}=${c.train[i]}`).join(' ')}</li>
      <li data-testid="curve-valid">{c.rounds.map((r, i) => `${r}=${c.valid[i]}`).join(' ')}</li>
      <li data-testid="curve-best">{String(c.bestRound)}</li>
    </ul>
  ),
}));

function model(over: Partial<TrainingLogModel> = {}): TrainingLogModel {
  return {
    tickers: ['SYN0001'],
    first_round: 0,
    rounds: 4,
    best_iteration: -1,
    eval_log: { train: [0.69, 0.6, 0.55, 0.5], valid: [0.69, 0.66, 0.65, 0.67] },
    feature_importance: [
      { feature: 'ret_5', gain: 3, weight: 4 },
      { feature: 'rsi_14', gain: 1, weight: 2 },
      { feature: 'vol_20', gain: 0, weight: 0 },
    ],
    ...over,
  };
}

describe('training log arithmetic', () => {
  it('curve: 1-based rounds after a base model, the kept round and the lowest valid loss', () => {
    const c = curve(model({ first_round: 30, best_iteration: 2 }));
    expect(c.rounds).toEqual([31, 32, 33, 34]);
    expect(c.bestRound).toBe(33);
    expect(c.minValid).toEqual({ round: 33, value: 0.65 });
    expect(curveSummary(c)).toBe('valid logloss lowest at round 33 (0.6500), 0.6700 at round 34 (+0.0200); early stopping kept round 33.');
    expect(curve(model()).bestRound).toBeNull();
  });

  it('curve summary says when the valid loss still falls at the end, and when there is no log', () => {
    expect(curveSummary(curve(model({ eval_log: { train: [0.6, 0.5], valid: [0.68, 0.66] } })))).toBe('valid logloss lowest at round 2 (0.6600), still falling at the last round.');
    expect(curveSummary(curve(model({ eval_log: { train: [], valid: [] } })))).toBe('No eval log (no valid rows).');
  });

  it('importance: shares of the total gain, highest first; features never split on are counted apart', () => {
    const imp = importance(model());
    expect(imp.rows).toEqual([
      { feature: 'ret_5', gain: 3, share: 0.75, splits: 4 },
      { feature: 'rsi_14', gain: 1, share: 0.25, splits: 2 },
    ]);
    expect(imp.unused).toBe(1);
    expect(imp.rest).toBe(0);
    const top1 = importance(model(), 1);
    expect(top1.rows.map((r) => r.feature)).toEqual(['ret_5']);
    expect(top1.rest).toBe(1);
  });

  it('labels: a per-ticker model by its ticker, a pooled one by its tickers, sorted', () => {
    const log: TrainingLog = {
      metric: 'logloss',
      importance_type: 'gain',
      models: {
        'model_SYN0002.json': model({ tickers: ['SYN0002'] }),
        'model.json': model({ tickers: ['A', 'B', 'C', 'D'] }),
        'model_SYN0001.json': model(),
      },
    };
    expect(logModels(log).map((m) => [m.label, m.file])).toEqual([
      ['SYN0001', 'model_SYN0001.json'],
      ['SYN0002', 'model_SYN0002.json'],
      ['pooled: 4 tickers', 'model.json'],
    ]);
  });
});

const runBody = (files: { name: string; type: string; size?: number }[]) => ({ run_id: 'run_t', run_dir: 'runs/run_t', config: null, manifest: null, metrics: {}, files, summary: null, registry_rows: [], jobs: [] });

describe('Run detail: training curve and feature importance', () => {
  it('draws each model from training_log.json and switches models', async () => {
    const log: TrainingLog = {
      metric: 'logloss',
      importance_type: 'gain',
      models: { 'model_SYN0001.json': model(), 'model_SYN0002.json': model({ tickers: ['SYN0002'], eval_log: { train: [0.5], valid: [0.7] }, feature_importance: [{ feature: 'vol_20', gain: 2, weight: 1 }] }) },
    };
    const s = new MockServer()
      .on('GET', '/api/runs/run_t', { body: runBody([{ name: 'training_log.json', type: 'file', size: 900 }]) })
      .on('GET', '/api/runs/run_t/files/training_log.json', { text: JSON.stringify(log), contentType: 'application/json' })
      .install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_t');
    expect((await screen.findByTestId('curve-valid')).textContent).toBe('1=0.69 2=0.66 3=0.65 4=0.67');
    const table = screen.getByTestId('feature-importance');
    expect(within(table).getAllByRole('row').slice(1).map((r) => r.textContent)).toEqual(['ret_5 75.0%4', 'rsi_14 25.0%2']);
    expect(screen.getByText('1 feature(s) never split on.')).toBeTruthy();
    fireEvent.change(screen.getByTestId('diagnostics-model'), { target: { value: 'model_SYN0002.json' } });
    expect(screen.getByTestId('curve-valid').textContent).toBe('1=0.7');
    expect(within(screen.getByTestId('feature-importance')).getAllByRole('row')[1]!.textContent).toBe('vol_20 100.0%1');
    expect(s.callsTo('/api/runs/run_t/files/training_log.json')).toHaveLength(1);
  });

  it('a run without training_log.json says so and asks for nothing', async () => {
    const s = new MockServer().on('GET', '/api/runs/run_t', { body: runBody([{ name: 'metrics.json', type: 'file' }]) }).install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_t');
    expect(await screen.findByText(/No training_log.json in this run/)).toBeTruthy();
    expect(s.callsTo('/api/runs/run_t/files/training_log.json')).toHaveLength(0);
  });

  it('a training log that breaks the TrainingLog schema is an error, not a silent chart', async () => {
    new MockServer()
      .on('GET', '/api/runs/run_t', { body: runBody([{ name: 'training_log.json', type: 'file' }]) })
      .on('GET', '/api/runs/run_t/files/training_log.json', { text: JSON.stringify({ metric: 'logloss', importance_type: 'gain', models: { 'model.json': { tickers: [] } } }), contentType: 'application/json' })
      .install();
    renderRoute(<RunDetailPage />, '/runs/:runId', '/runs/run_t');
    expect((await screen.findAllByText(/Unexpected training_log.json/)).length).toBeGreaterThan(0);
    expect(screen.queryByTestId('curve-mock')).toBeNull();
  });
});
