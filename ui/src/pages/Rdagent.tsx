// The RD-Agent page (docs/ui.md "RD-Agent"): the four tabs (Tasks, Monitor, Config center, Datasets) as one tab list. The selected
// tab is `?tab=tasks|config|datasets|monitor` and the monitored task `?task=<id>`, so both survive
// a reload and can be linked. Arrow keys move between the tabs (Home / End to the ends).
import { useSearchParams } from 'react-router-dom';
import { ConfigCenter } from '../components/ConfigCenter';
import { DatasetsPanel } from '../components/DatasetsPanel';
import { RdagentMonitor } from '../components/RdagentMonitor';
import { RdagentTasks } from '../components/RdagentTasks';
import { RDAGENT_TABS, tabFromParam, type RdagentTab } from '../lib/rdagent';
import { onTabListKey } from '../lib/tabKeys';

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

  return (
    <div className="page">
      <h1>RD-Agent</h1>
      <p className="muted lead">Research loops of RD-Agent fin_quant run as ordinary jobs: start and watch tasks, edit their settings and templates, manage their datasets.</p>
      <div
        className="tabs"
        role="tablist"
        aria-label="RD-Agent"
        onKeyDown={(e) => onTabListKey(e, RDAGENT_TABS.map((t) => t.id), tab, (t) => go(t), (t) => `rdagent-tab-${t}`)}
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
