// Random input for the public APIs' fuzz tests (npm build and script tag).
import fc from 'fast-check';

/** Values a page may pass: any JSON-ish or exotic value, cycles included. */
export const value = fc.oneof(
  fc.anything({
    withBigInt: true,
    withBoxedValues: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    withObjectString: true,
    withSparseArray: true,
    withTypedArray: true,
    withUnicodeString: true,
  }),
  fc.constantFrom(NaN, Infinity, -Infinity, Symbol('s'), () => 1, new Date(NaN), undefined, null),
  fc
    .letrec((tie) => ({
      node: fc.record({ a: fc.integer(), b: fc.option(tie('node'), { maxDepth: 3 }) }),
    }))
    .node.map((node) => {
      (node as Record<string, unknown>).self = node;
      return node;
    }),
);
