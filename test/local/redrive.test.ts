/**
 * Step Functions' redrive eligibility as the offline runtime computes it (docs/pipeline.md,
 * "Redriving a failed run"): a run stopped more than 14 days ago, open more than a year, or with
 * 24,999 history events or more is not redrivable; a running or succeeded one never is.
 */
import { describe, expect, it } from 'vitest';
import { redriveStatusOf } from '../../local/redrive';

const DAY_MS = 24 * 60 * 60 * 1000;
const now = new Date('2026-12-01T12:00:00Z');
const ago = (ms: number) => new Date(now.getTime() - ms);
const failed = { status: 'FAILED', startDate: ago(DAY_MS), stopDate: ago(DAY_MS / 2), historyEvents: 40 };

describe('redriveStatusOf', () => {
  it('lets a failed run be redriven until 14 days after it stopped, and not a millisecond later', () => {
    expect(redriveStatusOf({ ...failed, startDate: ago(15 * DAY_MS), stopDate: ago(14 * DAY_MS) }, now)).toEqual({
      redriveStatus: 'REDRIVABLE',
    });
    expect(redriveStatusOf({ ...failed, startDate: ago(15 * DAY_MS), stopDate: ago(14 * DAY_MS + 1) }, now)).toEqual({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution redrivable period exceeded.',
    });
  });

  it('refuses a run open for more than a year (365 days) since it started', () => {
    const stopDate = ago(DAY_MS);
    expect(redriveStatusOf({ ...failed, startDate: ago(365 * DAY_MS), stopDate }, now).redriveStatus).toBe('REDRIVABLE');
    expect(redriveStatusOf({ ...failed, startDate: ago(365 * DAY_MS + 1), stopDate }, now)).toEqual({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution has exceeded the max execution time.',
    });
  });

  it('refuses a run with 24,999 history events or more, and takes one with 24,998', () => {
    expect(redriveStatusOf({ ...failed, historyEvents: 24_998 }, now).redriveStatus).toBe('REDRIVABLE');
    expect(redriveStatusOf({ ...failed, historyEvents: 24_999 }, now)).toEqual({
      redriveStatus: 'NOT_REDRIVABLE',
      redriveStatusReason: 'Execution history event limit exceeded.',
    });
  });

  it('never redrives a run that is running, waiting for its redrive, or succeeded; aborted and timed-out runs may be', () => {
    for (const status of ['RUNNING', 'PENDING_REDRIVE']) {
      expect(redriveStatusOf({ ...failed, status }, now).redriveStatusReason).toBe('Execution is RUNNING and cannot be redriven.');
    }
    expect(redriveStatusOf({ ...failed, status: 'SUCCEEDED' }, now).redriveStatusReason).toBe(
      'Execution is SUCCEEDED and cannot be redriven.',
    );
    for (const status of ['ABORTED', 'TIMED_OUT']) expect(redriveStatusOf({ ...failed, status }, now).redriveStatus).toBe('REDRIVABLE');
  });
});
