// The Configs page: the config center over every tool's managed files (docs/ui.md).
import { ConfigCenter } from '../components/ConfigCenter';

export function ConfigsPage() {
  return (
    <div className="page">
      <h1>Configs</h1>
      <p className="lead muted">
        Settings files of external tools declared under <code>configs:</code> in alphalab.yaml. Every save is validated and backed up first; any version can be compared and
        rolled back.
      </p>
      <ConfigCenter />
    </div>
  );
}
