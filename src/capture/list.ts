/**
 * `" a, b ,"` → `['a', 'b']`: the items of a comma-separated option, trimmed, empty ones left out;
 * none when the option is absent (a script tag without its attribute).
 */
export const splitList = (value = ''): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item);
