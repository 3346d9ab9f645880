// CONTRACT STUB (base18): replaced by the Datasets page.
import { DatasetsPanel } from '../components/DatasetsPanel';

export function DatasetsPage() {
  return (
    <div className="page">
      <h1>Datasets</h1>
      <DatasetsPanel scope="all" />
    </div>
  );
}
