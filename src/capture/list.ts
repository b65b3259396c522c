/** `" a, b ,"` → `['a', 'b']`: the items of a comma-separated option, trimmed, empty ones left out. */
export const splitList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item);
