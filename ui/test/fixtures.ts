// Complete wire objects (as the server sends them, valid against src/http/openapi.json) for
// scripted responses; each builder takes the fields a test cares about.
import type { BacktestDetail, JobDetail, JobLogResponse, JobType, JobTypeParam, RegistryModelRow } from '../src/types/api';

export function job(over: Partial<JobDetail> = {}): JobDetail {
  return {
    job_id: 'job_1',
    job_type: 'train',
    status: 'SUCCESS',
    created_at: '2026-01-01T00:00:00.000Z',
    started_at: '2026-01-01T00:00:01.000Z',
    ended_at: '2026-01-01T00:00:05.000Z',
    duration_sec: 4,
    exit_code: 0,
    end_reason: 'exit_code',
    error_message: null,
    cwd: '.',
    command: ['alphalab', 'train', '--config', 'configs/base.yaml'],
    args_preview: 'alphalab train --config configs/base.yaml',
    artifacts: {},
    artifacts_parse_error: null,
    runtime: { meta_path: 'reports/jobs/runtime/job_1.json', log_path: 'reports/jobs/runtime/job_1.log' },
    parent_id: null,
    source_job_id: null,
    owner_id: null,
    params: {},
    dry_run: false,
    timeout_sec: 0,
    ...over,
  };
}

export function registryRow(over: Partial<RegistryModelRow> & Pick<RegistryModelRow, 'ticker' | 'run_id'>): RegistryModelRow {
  return {
    mode: 'base',
    label_horizon_days: 120,
    label_threshold: 0.2,
    precision: 0.61,
    recall: 0.4,
    f1: 0.5,
    accuracy: 0.7,
    buy_rate: 0.12,
    positive_rate: 0.3,
    lift: 1.234,
    tp: 12,
    fp: 3,
    tn: 40,
    fn: 5,
    support: 60,
    model_final_path: `runs/${over.run_id}/model.json`,
    config_path: `runs/${over.run_id}/config.yaml`,
    metrics_path: `runs/${over.run_id}/metrics.json`,
    manifest_path: `runs/${over.run_id}/manifest.json`,
    start_time: '2026-01-01T00:00:00Z',
    end_time: '2026-01-01T00:01:00Z',
    status: 'success',
    project: '',
    ...over,
  };
}

export function logChunk(over: Partial<JobLogResponse> = {}): JobLogResponse {
  return { job_id: 'job_1', content: '', next_offset: 0, is_truncated: false, log_path: 'reports/jobs/runtime/job_1.log', ...over };
}

export function param(over: Partial<JobTypeParam> & Pick<JobTypeParam, 'name' | 'type'>): JobTypeParam {
  return { required: false, default: null, description: '', ...over };
}

export function jobType(over: Partial<JobType> & Pick<JobType, 'name'>): JobType {
  return {
    description: '',
    builtin: false,
    params: [],
    accepts_overrides: false,
    artifacts: [],
    required_artifacts: [],
    timeout_sec: 0,
    argv_template: [],
    results: null,
    ...over,
  };
}

export const BUILTIN_TYPES: JobType[] = [
  jobType({ name: 'train', builtin: true }),
  jobType({ name: 'backtest', builtin: true }),
  jobType({ name: 'eval-metrics', builtin: true }),
];

export function backtestDetail(over: Partial<BacktestDetail> = {}): BacktestDetail {
  return {
    bt_run_id: 'bt_1',
    bt_dir: 'backtests/bt_1',
    summary: { cagr: 0.05, max_drawdown: 0.1, sharpe: 0.8, trades: 1, final_equity: 1_050_000, initial_cash: 1_000_000, tickers: ['AAA'], strategy: { type: 'topn' } },
    statistics: null,
    config: null,
    equity_curve: [
      { date: '2021-01-04', equity: 1_000_000, drawdown: 0 },
      { date: '2021-01-05', equity: 1_050_000, drawdown: 0 },
    ],
    drawdown: [],
    equity_points_total: 2,
    downsampled: false,
    trades: [],
    trades_total: 0,
    files: [],
    ...over,
  };
}

// fills.csv / positions.csv of a small backtest (see test/backtestFiles.test.ts for the arithmetic).
// Two instruments, 1,000 cash to start, fee 1 per order. Day 1 buys 4 AAA at 100 and 5 BBB
// at 100 (900 traded, 2 fees); day 2 sells the 4 AAA at 110 and buys 2 more BBB at 100.
export const FILLS_CSV = `date,symbol,side,shares,price,fee,reason
2021-01-04,AAA,buy,4,100,1,rebalance
2021-01-04,BBB,buy,5,100,1,rebalance
2021-01-05,AAA,sell,4,110,1,rebalance
2021-01-05,BBB,buy,2,100,1,rebalance
`;
// Close-marked snapshots after the fills: day 1 AAA closes 105, BBB 100 -> 4*105 + 5*100 + cash 98 = 1018;
// day 2 BBB closes 101, cash 98 + 440 - 1 - 200 - 1 = 336 -> 7*101 + 336 = 1043.
export const POSITIONS_CSV = `date,symbol,shares,price,weight
2021-01-04,AAA,4,105,0.41257367
2021-01-04,BBB,5,100,0.49115914
2021-01-04,$CASH,98,1,0.09626719
2021-01-05,BBB,7,101,0.67785235
2021-01-05,$CASH,336,1,0.32214765
`;

