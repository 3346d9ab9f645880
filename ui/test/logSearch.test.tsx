// The Job detail's whole-log search asks the server (by offset) and continues with "More".
import { describe, expect, it } from 'vitest';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { LogSearch } from '../src/components/LogSearch';
import { MockServer } from './mockServer';

describe('LogSearch', () => {
  it('searches the whole log on the server and pages from next_offset', async () => {
    const s = new MockServer()
      .on(
        'GET',
        '/api/jobs/job_1/log/search',
        { body: { job_id: 'job_1', q: 'error', matches: [{ offset: 0, line: 'ERROR one' }, { offset: 120, line: 'error two' }], next_offset: 140, complete: false, file_size: 900 } },
        { body: { job_id: 'job_1', q: 'error', matches: [{ offset: 800, line: 'last error' }], next_offset: 900, complete: true, file_size: 900 } },
      )
      .install();
    render(<LogSearch jobId="job_1" />);
    fireEvent.change(screen.getByLabelText('Search the whole log'), { target: { value: 'error' } });
    fireEvent.click(screen.getByRole('button', { name: 'Search' }));
    const results = await screen.findByTestId('log-search-results');
    await waitFor(() => expect(within(results).getAllByRole('listitem')).toHaveLength(2));
    expect(results.textContent).toContain('so far');
    fireEvent.click(within(results).getByRole('button', { name: 'More' }));
    await waitFor(() => expect(within(screen.getByTestId('log-search-results')).getAllByRole('listitem')).toHaveLength(3));
    expect(screen.getByTestId('log-search-results').textContent).toContain('whole log searched');
    expect(screen.queryByRole('button', { name: 'More' })).toBeNull();
    const calls = s.callsTo('/api/jobs/job_1/log/search').map((c) => [c.url.searchParams.get('q'), c.url.searchParams.get('offset')]);
    expect(calls).toEqual([['error', '0'], ['error', '140']]);
    expect(within(screen.getByTestId('log-search-results')).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['@0 ERROR one', '@120 error two', '@800 last error']);
  });
});
