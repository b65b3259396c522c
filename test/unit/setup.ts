/**
 * The unit tests read request bodies with `JSON.parse` and look at complete events. Bodies are sent
 * in wire version 4 (docs/wire-format.md; version 2 before it, shared fields once in `common`); this
 * turns a parsed version-2 or -4 body into the canonical events a collector rebuilds, as the relay
 * does, so the assertions see what is stored. The wire shape itself is tested in wire.test.ts and
 * encode.test.ts.
 */
import { canonicalBody } from '../../src/relay/wire';

// Bodies are read here synchronously as text: the tracker's fallback where the browser cannot
// gzip. Compressed bodies are tested in test/unit/encode.test.ts and in real Chromium.
delete (globalThis as { CompressionStream?: unknown }).CompressionStream;

const parse = JSON.parse;
JSON.parse = function (
  text: string,
  reviver?: (this: unknown, key: string, value: unknown) => unknown,
) {
  const value = parse(text, reviver);
  // Version 4 (compact): rebuilt with the relay's own decoder.
  if (value && value.v === 4 && Array.isArray(value.events)) {
    const result = canonicalBody(value);
    if ('body' in result) return result.body;
  }
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
