// CONTRACT STUB (base18): replaced by the RD-Agent page (tabs Tasks, Config center, Datasets,
// Monitor). The Config center and Datasets tabs render <ConfigCenter tool="rdagent" /> and
// <DatasetsPanel scope="rdagent" />.
import { ConfigCenter } from '../components/ConfigCenter';
import { DatasetsPanel } from '../components/DatasetsPanel';

export function RdagentPage() {
  return (
    <div className="page">
      <h1>RD-Agent</h1>
      <ConfigCenter tool="rdagent" />
      <DatasetsPanel scope="rdagent" />
    </div>
  );
}
