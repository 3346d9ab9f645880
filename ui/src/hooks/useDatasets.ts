// The datasets requests (docs/datasets.md): list, create, upload instruments, set default,
// delete, validation report. scope "rdagent" lists and uploads through the RD-Agent views
// (/api/rdagent/datasets...), which answer the same as /api/datasets.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { request } from '../api/client';
import type { components } from '../api/schema.gen';

type Schemas = components['schemas'];
export type Dataset = Schemas['Dataset'];
export type DatasetList = Schemas['DatasetList'];
export type DatasetCreated = Schemas['DatasetCreated'];
export type DatasetRequest = Schemas['DatasetRequest'];
export type DatasetValidation = Schemas['DatasetValidation'];
export type DatasetLayoutReport = Schemas['DatasetLayoutReport'];
export type InstrumentsUpload = Schemas['InstrumentsUpload'];
export type DatasetDeleted = Schemas['DatasetDeleted'];
export type DatasetScope = 'rdagent' | 'all';

const enc = encodeURIComponent;
const listPath = (scope: DatasetScope) => (scope === 'rdagent' ? '/api/rdagent/datasets' : '/api/datasets');

export const datasetsApi = {
  list: (scope: DatasetScope, signal?: AbortSignal): Promise<DatasetList> => request('GET', listPath(scope), 'DatasetList', undefined, signal),
  create: (body: DatasetRequest): Promise<DatasetCreated> => request('POST', '/api/datasets', 'DatasetCreated', body),
  uploadInstruments: (scope: DatasetScope, body: InstrumentsUpload): Promise<DatasetCreated> =>
    request('POST', `${listPath(scope)}/upload-instruments`, 'DatasetCreated', body),
  setDefault: (name: string): Promise<Dataset> => request('POST', `/api/datasets/${enc(name)}/default`, 'Dataset', {}),
  remove: (name: string): Promise<DatasetDeleted> => request('DELETE', `/api/datasets/${enc(name)}`, 'DatasetDeleted', {}),
  validation: (name: string, signal?: AbortSignal): Promise<DatasetValidation> =>
    request('GET', `/api/datasets/${enc(name)}/validation`, 'DatasetValidation', undefined, signal),
};

export function useDatasets(scope: DatasetScope) {
  return useQuery({ queryKey: ['datasets', 'list', scope], queryFn: ({ signal }) => datasetsApi.list(scope, signal) });
}

/** The layout report of one dataset, asked for when a row's "Validate" is pressed. */
export function useDatasetValidation(name: string | null) {
  return useQuery({
    queryKey: ['datasets', 'validation', name],
    queryFn: ({ signal }) => datasetsApi.validation(name!, signal),
    enabled: name !== null,
    retry: false,
  });
}

function useDatasetMutation<A, R>(fn: (a: A) => Promise<R>) {
  const qc = useQueryClient();
  return useMutation({ mutationFn: fn, onSuccess: () => void qc.invalidateQueries({ queryKey: ['datasets'] }) });
}

/** Errors are left to the caller: each dialog shows its 4xx inline (the layout report, the bad lines). */
export const useCreateDataset = () => useDatasetMutation(datasetsApi.create);
export const useUploadInstruments = (scope: DatasetScope) => useDatasetMutation((b: InstrumentsUpload) => datasetsApi.uploadInstruments(scope, b));
export const useSetDefaultDataset = () => useDatasetMutation(datasetsApi.setDefault);
export const useDeleteDataset = () => useDatasetMutation(datasetsApi.remove);
