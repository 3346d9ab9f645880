// CONTRACT STUB (base18): replaced by the Configs page (the config center for every tool).
import { ConfigCenter } from '../components/ConfigCenter';

export function ConfigsPage() {
  return (
    <div className="page">
      <h1>Configs</h1>
      <ConfigCenter />
    </div>
  );
}
