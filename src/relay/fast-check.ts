/**
 * The hot path of event validation, compiled once from the valibot schemas of schema.ts. A compiled
 * check answers only "valid, and this is valibot's output" or "not sure": every event it is not sure
 * of goes through valibot itself, so refusals and their messages are valibot's, unchanged. Only the
 * schema kinds and actions below are compiled; a schema using any other one is not compiled at all
 * (every event then goes through valibot).
 */

/** What a compiled schema returns for a value it cannot vouch for. */
const UNSURE: unique symbol = Symbol('unsure');
type Compiled = (value: unknown) => unknown;

/** The parts of a valibot schema or action the compiler reads. */
interface SchemaNode {
  kind: string;
  type: string;
  pipe?: SchemaNode[];
  requirement?: unknown;
  wrapped?: SchemaNode;
  default?: unknown;
  fallback?: unknown;
  options?: unknown[];
  literal?: unknown;
  key?: SchemaNode | string;
  value?: SchemaNode;
  entries?: Record<string, SchemaNode>;
}

/** Own keys valibot copies into an output object (as its `_isValidObjectKey`). */
const copied = (object: object, key: string) =>
  Object.hasOwn(object, key) && key != '__proto__' && key != 'prototype' && key != 'constructor';

/** A pipe action as a test of the (already typed) value; undefined for an action not compiled. */
const action = (node: SchemaNode): ((value: never) => boolean) | undefined => {
  const limit = node.requirement as number;
  switch (node.type) {
    case 'min_length':
      return (value: string) => value.length >= limit;
    case 'max_length':
      return (value: string) => value.length <= limit;
    case 'min_value':
      return (value: number) => value >= limit;
    case 'max_value':
      return (value: number) => value <= limit;
    case 'finite':
      return (value: number) => Number.isFinite(value);
    case 'integer':
      return (value: number) => Number.isInteger(value);
    case 'regex': {
      const pattern = node.requirement as RegExp;
      // A global or sticky pattern keeps state between tests: left to valibot.
      return pattern.global || pattern.sticky ? undefined : (value: string) => pattern.test(value);
    }
    default:
      return undefined;
  }
};

/** A schema with a pipe: its own check, then each action; undefined when a part is not compiled. */
const piped = (node: SchemaNode): Compiled | undefined => {
  const [head, ...actions] = node.pipe!;
  const base = compile(head);
  const tests = actions.filter((a) => a.kind != 'metadata').map(action);
  if (!base || tests.some((t) => !t)) return undefined;
  const all = tests as ((value: unknown) => boolean)[];
  return (value) => {
    const out = base(value);
    if (out === UNSURE) return UNSURE;
    for (const test of all) if (!test(out)) return UNSURE;
    return out;
  };
};

/** A loose object: its entries in valibot's order, then the unknown keys as they came. */
const looseObject = (node: SchemaNode): Compiled | undefined => {
  const entries = Object.entries(node.entries!).map(([key, schema]) => {
    const optional = schema.type == 'optional';
    if (optional && schema.default !== undefined) return undefined;
    if (schema.fallback !== undefined) return undefined;
    const check = compile(schema);
    return check && { key, check, optional };
  });
  if (entries.some((e) => !e)) return undefined;
  const known = entries as { key: string; check: Compiled; optional: boolean }[];
  // Generated once per schema with the keys as constants, so each field is read and written at a
  // fixed place (the keys are the schema's own; JSON.stringify quotes them).
  const steps = known.map(({ key, optional }, i) => {
    const name = JSON.stringify(key);
    return (
      `item = input[${name}];` +
      `if (item === undefined && !(${name} in input)) { ${optional ? '' : 'return UNSURE;'} }` +
      `else { item = checks[${i}](item); if (item === UNSURE) return UNSURE; out[${name}] = item; }`
    );
  });
  const make = new Function(
    'checks',
    'UNSURE',
    'names',
    'copied',
    `return (input) => {
       if (!input || typeof input != 'object') return UNSURE;
       const out = {};
       let item;
       ${steps.join('\n')}
       for (const key of Object.keys(input))
         if (!Object.hasOwn(names, key) && copied(input, key)) out[key] = input[key];
       return out;
     };`,
  );
  return make(
    known.map((e) => e.check),
    UNSURE,
    node.entries,
    copied,
  ) as Compiled;
};

/** A record: each own key (valibot's copyable ones) and value checked, into a new object. */
const record = (node: SchemaNode): Compiled | undefined => {
  const key = compile(node.key as SchemaNode);
  const item = compile(node.value!);
  if (!key || !item) return undefined;
  return (value) => {
    if (!value || typeof value != 'object') return UNSURE;
    const input = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const name in input) {
      if (!copied(input, name)) continue;
      if (key(name) === UNSURE) return UNSURE;
      const checked = item(input[name]);
      if (checked === UNSURE) return UNSURE;
      out[name] = checked;
    }
    return out;
  };
};

/** A variant told apart by a literal `key`: the option for the value's key, checked. */
const variant = (node: SchemaNode): Compiled | undefined => {
  const key = node.key as string;
  const options = new Map<unknown, Compiled>();
  for (const option of node.options as SchemaNode[]) {
    const discriminator = option.entries?.[key];
    const check = compile(option);
    // Only literal discriminators, each once: then exactly one option can match, as in valibot.
    if (discriminator?.type != 'literal' || options.has(discriminator.literal) || !check)
      return undefined;
    options.set(discriminator.literal, check);
  }
  return (value) => {
    if (!value || typeof value != 'object') return UNSURE;
    const check = options.get((value as Record<string, unknown>)[key]);
    return check ? check(value) : UNSURE;
  };
};

/** Compiles a valibot schema; undefined when it uses a kind this compiler does not know. */
export const compile = (node: SchemaNode): Compiled | undefined => {
  if (node.pipe) return piped(node);
  switch (node.type) {
    case 'string':
      return (value) => (typeof value == 'string' ? value : UNSURE);
    case 'number':
      return (value) => (typeof value == 'number' && !Number.isNaN(value) ? value : UNSURE);
    case 'unknown':
      return (value) => value;
    case 'literal':
      return (value) => (Object.is(value, node.literal) || value === node.literal ? value : UNSURE);
    case 'picklist':
      return (value) => (node.options!.includes(value) ? value : UNSURE);
    case 'optional': {
      const wrapped = node.default === undefined ? compile(node.wrapped!) : undefined;
      return wrapped && ((value) => (value === undefined ? value : wrapped(value)));
    }
    case 'loose_object':
      return looseObject(node);
    case 'record':
      return record(node);
    case 'variant':
      return variant(node);
    default:
      return undefined;
  }
};

/**
 * A compiled schema as a function that returns valibot's output for a value it would accept, or
 * undefined when it is not sure (then valibot decides, and words the refusal).
 */
export const compiledCheck = <T>(schema: unknown): ((value: unknown) => T | undefined) => {
  const check = compile(schema as SchemaNode);
  if (!check) return () => undefined;
  return (value) => {
    const out = check(value);
    return out === UNSURE ? undefined : (out as T);
  };
};

/**
 * True when a value is certainly within the depth, key and item bounds (`boundsProblem` then finds
 * no problem); false when it may not be (then `boundsProblem` walks it again and names the place).
 * Walked without recursion and without building paths.
 */
export const withinBounds = (
  value: unknown,
  bounds: { maxDepth: number; maxKeys: number; maxItems: number },
): boolean => {
  const nodes: unknown[] = [value];
  const depths: number[] = [0];
  while (nodes.length) {
    const node = nodes.pop();
    const depth = depths.pop()!;
    if (!node || typeof node != 'object') continue;
    if (depth > bounds.maxDepth) return false;
    if (Array.isArray(node)) {
      if (node.length > bounds.maxItems) return false;
      for (const item of node)
        if (item && typeof item == 'object') (nodes.push(item), depths.push(depth + 1));
    } else {
      const keys = Object.keys(node);
      if (keys.length > bounds.maxKeys) return false;
      for (const key of keys) {
        const item = (node as Record<string, unknown>)[key];
        if (item && typeof item == 'object') (nodes.push(item), depths.push(depth + 1));
      }
    }
  }
  return true;
};
