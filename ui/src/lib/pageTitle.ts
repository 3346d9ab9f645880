// The document title of each route ("Jobs · alphalab", "Job job_... · alphalab").
const LISTS: Record<string, string> = {
  '': 'Dashboard',
  jobs: 'Jobs',
  registry: 'Registry',
  runs: 'Runs',
  backtests: 'Backtests',
  optimizations: 'Optimizations',
  actions: 'Actions',
  rdagent: 'RD-Agent',
  configs: 'Configs',
  datasets: 'Datasets',
};
const DETAIL: Record<string, string> = { jobs: 'Job', runs: 'Run', backtests: 'Backtest', optimizations: 'Optimization' };

export function pageTitle(pathname: string): string {
  const [first = '', id] = pathname.split('/').filter(Boolean).map(decodeURIComponent);
  let name: string;
  if (id !== undefined && DETAIL[first]) name = `${DETAIL[first]} ${id}`;
  else name = LISTS[first] ?? 'Not found';
  return `${name} · alphalab`;
}
