// CONTRACT STUB (base18): replaced by the datasets panel (list, create, upload instruments,
// set default, delete, validation report). scope="rdagent" reads /api/rdagent/datasets, "all"
// (the Datasets page) /api/datasets.
export interface DatasetsPanelProps {
  scope?: 'rdagent' | 'all';
}

export function DatasetsPanel(_props: DatasetsPanelProps) {
  return <section aria-label="Datasets" />;
}
