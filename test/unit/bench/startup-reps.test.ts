// @vitest-environment node
// The bench's start-up-only rounds (BENCH_STARTUP_REPS): their runs carry the start-up figures only,
// so those figures are summarised over every traced load and the calls over the full rounds alone.
import { describe, expect, it } from 'vitest';
import { summarise } from '../../../bench/lib/report.mjs';

const full = (start: number, task: number) => ({ start, firstFile: start - 2, task, task3000: 3 });
const startupOnly = (start: number) => ({ start, firstFile: start - 2, tbt: 0, longTasks: 0 });

describe('start-up-only rounds', () => {
  const summaries = summarise({
    runs: {
      tracklet: [full(40, 6), full(90, 7), full(35, 8), ...[30, 31, 33, 80].map(startupOnly)],
    },
  });

  it('count in the start-up figures: the median of all seven traced loads', () => {
    expect(summaries.tracklet.start).toEqual({ median: 35, min: 30, max: 90, n: 7 });
    expect(summaries.tracklet.firstFile?.n).toBe(7);
  });

  it('leave the call figures to the full rounds', () => {
    expect(summaries.tracklet.task).toEqual({ median: 7, min: 6, max: 8, n: 3 });
    expect(summaries.tracklet.task3000?.n).toBe(3);
  });
});
