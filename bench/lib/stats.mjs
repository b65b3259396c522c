// Medians and spreads: the machine is shared, so every figure is a median with its min–max.

export const median = (values) => {
  const sorted = values
    .filter((v) => typeof v == 'number' && Number.isFinite(v))
    .sort((a, b) => a - b);
  if (!sorted.length) return undefined;
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/** `{ median, min, max, n }` of one metric over runs. */
export const summary = (runs, key) => {
  const values = runs
    .map((run) => run[key])
    .filter((v) => typeof v == 'number' && Number.isFinite(v));
  if (!values.length) return undefined;
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    n: values.length,
  };
};
