// The RD-Agent page (docs/ui.md "RD-Agent"): the four tabs (Tasks, Monitor, Config center, Datasets) as one tab list. The selected
// tab is `?tab=tasks|config|datasets|monitor` and the monitored task `?task=<id>`, so both survive
// a reload and can be linked. Arrow keys move between the tabs (Home / End to the ends).
import { useSearchParams } from 'react-router-dom';
import { ConfigCenter } from '../components/ConfigCenter';
import { DatasetsPanel } from '../components/DatasetsPanel';
import { RdagentMonitor } from '../components/RdagentMonitor';
import { RdagentTasks } from '../components/RdagentTasks';
import { RDAGENT_TABS, tabFromParam, type RdagentTab } from '../lib/rdagent';

export function RdagentPage() {
  const [sp, setSp] = useSearchParams();
  const tab = tabFromParam(sp.get('tab'));
  const task = sp.get('task') ?? '';

  const go = (t: RdagentTab, taskId?: string) => {
    const next = new URLSearchParams(sp);
    next.set('tab', t);
    if (taskId !== undefined) next.set('task', taskId);
    setSp(next);
  };
  const focusTab = (t: RdagentTab) => requestAnimationFrame(() => document.getElementById(`rdagent-tab-${t}`)?.focus());

  return (
    <div className="page">
      <h1>RD-Agent</h1>
      <p className="muted lead">Research loops of RD-Agent fin_quant run as ordinary jobs: start and watch tasks, edit their settings and templates, manage their datasets.</p>
      <div
        className="tabs"
        role="tablist"
        aria-label="RD-Agent"
        onKeyDown={(e) => {
          const i = RDAGENT_TABS.findIndex((t) => t.id === tab);
          const n = RDAGENT_TABS.length;
          const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : null;
          if (to === null) return;
          e.preventDefault();
          const next = RDAGENT_TABS[(to + n) % n]!.id;
          go(next);
          focusTab(next);
        }}
      >
        {RDAGENT_TABS.map((t) => (
          <button
            key={t.id}
            id={`rdagent-tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            aria-controls={`rdagent-panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            className={`tab${tab === t.id ? ' active' : ''}`}
            onClick={() => go(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <section className="panel" role="tabpanel" id={`rdagent-panel-${tab}`} aria-labelledby={`rdagent-tab-${tab}`} data-testid={`rdagent-panel-${tab}`}>
        {tab === 'tasks' && <RdagentTasks onMonitor={(id) => go('monitor', id)} />}
        {tab === 'config' && <ConfigCenter tool="rdagent" />}
        {tab === 'datasets' && <DatasetsPanel scope="rdagent" />}
        {tab === 'monitor' && <RdagentMonitor taskId={task} onPick={(id) => go('monitor', id)} />}
      </section>
    </div>
  );
}
