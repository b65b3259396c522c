/**
 * The unit tests read request bodies with `JSON.parse` and look at complete events. Bodies are sent
 * in wire version 2 (shared fields once in `common`); this turns a parsed version-2 body into the
 * canonical events a collector rebuilds (`{ ...common, ...events[i] }`), as the relay does, so the
 * assertions see what is stored. The wire shape itself is tested in wire.test.ts.
 */
const parse = JSON.parse;
JSON.parse = function (
  text: string,
  reviver?: (this: unknown, key: string, value: unknown) => unknown,
) {
  const value = parse(text, reviver);
  if (
    value &&
    value.v === 2 &&
    Array.isArray(value.events) &&
    value.common &&
    typeof value.common == 'object'
  ) {
    const { common, ...body } = value;
    body.events = value.events.map((event: object) => ({ ...common, ...event }));
    return body;
  }
  return value;
};
