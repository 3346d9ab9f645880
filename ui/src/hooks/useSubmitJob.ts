import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, type BacktestRequest, type EvalMetricsRequest, type JobCreated, type SubmitJobRequest, type TrainRequest } from '../api/client';
import { pushToast } from '../lib/toastStore';
import { toastError } from '../lib/errors';
import { watchJob } from '../lib/jobWatch';

export type SubmitRequest =
  | { kind: 'train'; body: TrainRequest }
  | { kind: 'backtest'; body: BacktestRequest }
  | { kind: 'eval-metrics'; body: EvalMetricsRequest }
  | { kind: 'job'; body: SubmitJobRequest };

function submit(req: SubmitRequest): Promise<JobCreated> {
  switch (req.kind) {
    case 'train':
      return api.submitTrain(req.body);
    case 'backtest':
      return api.submitBacktest(req.body);
    case 'eval-metrics':
      return api.submitEval(req.body);
    case 'job':
      return api.submitJob(req.body);
  }
}

function label(req: SubmitRequest): string {
  return req.kind === 'job' ? req.body.job_type : req.kind;
}

/** Submits a job; on success a toast shows the job id with a link to it. */
export function useSubmitJob() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: submit,
    onSuccess: (created, req) => {
      pushToast({
        kind: 'success',
        title: `${label(req)} job submitted`,
        body: created.job_id,
        link: { to: `/jobs/${created.job_id}`, label: 'Open job' },
      });
      // Announced again when it ends (components/JobWatcher); pages showing its jobs refresh now.
      watchJob(created.job_id);
      void qc.invalidateQueries({ queryKey: ['jobs'] });
      void qc.invalidateQueries({ queryKey: ['dashboard'] });
      void qc.invalidateQueries({ queryKey: ['run'] });
    },
    onError: (e, req) => toastError(e, `${label(req)} job refused`),
  });
}
