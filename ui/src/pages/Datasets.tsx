// The Datasets page: every dataset of the workspace (docs/ui.md, docs/datasets.md).
import { DatasetsPanel } from '../components/DatasetsPanel';

export function DatasetsPage() {
  return (
    <div className="page">
      <h1>Datasets</h1>
      <p className="lead muted">
        Named market data the engine reads (<code>dataset: name</code> in a config). Datasets declared in alphalab.yaml are read-only here; the ones created here are stored in the
        workspace's <code>datasets/</code> folder.
      </p>
      <DatasetsPanel scope="all" />
    </div>
  );
}
