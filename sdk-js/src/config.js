// The plugin's `[config]` table, read into a plain object by the schema the strategy declares
// (its `config` property), the way the Rust SDK reads it into the strategy's serde type: the
// same reading when the host loads the plugin (validate-config) and for every call, so a key
// or a type the strategy does not expect refuses the plugin at load, never quietly defaults.
//
//   export default {
//     config: { attribute: config.string('employeeNumber'), when: config.oneOf(['a', 'b'], 'a') },
//     transform(request, settings) { ... settings.attribute ... },
//   };

import { StrategyError } from './error.js';

function field(kind, check, fallback) {
  return Object.freeze({ kind, check, default: fallback });
}

const isInteger = (v) => typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));

/** The kinds of `[config]` values a schema names; the argument is the default when absent. */
export const config = Object.freeze({
  /** A string. */
  string: (fallback) => field('a string', (v) => typeof v === 'string', fallback),
  /** A boolean. */
  boolean: (fallback) => field('a boolean', (v) => typeof v === 'boolean', fallback),
  /** An integer, within `min`..`max` when given. */
  integer: (fallback, { min, max } = {}) =>
    field(
      min !== undefined && max !== undefined ? `an integer from ${min} to ${max}` : 'an integer',
      (v) => isInteger(v) && (min === undefined || v >= min) && (max === undefined || v <= max),
      fallback,
    ),
  /** A number (an integer or not). */
  number: (fallback) => field('a number', (v) => typeof v === 'number', fallback),
  /** One of the strings `choices`. */
  oneOf: (choices, fallback) =>
    field(choices.map((c) => JSON.stringify(c)).join(' or '), (v) => choices.includes(v), fallback),
});

/**
 * Reads `entries` (`[key, value]` pairs in the manifest's order, values as JavaScript) by
 * `schema` into a frozen object: every key of the schema, with its default when absent. An
 * unknown key, or a value of another kind, throws a StrategyError naming the key.
 */
export function readConfig(schema = {}, entries = []) {
  const known = Object.keys(schema);
  const out = {};
  for (const key of known) out[key] = schema[key].default;
  for (const [key, v] of entries) {
    if (!Object.hasOwn(schema, key)) {
      throw new StrategyError(`unknown key ${JSON.stringify(key)} (known: ${known.join(', ') || 'none'})`);
    }
    if (!schema[key].check(v)) {
      throw new StrategyError(`${key} must be ${schema[key].kind}, not ${describe(v)}`);
    }
    out[key] = v;
  }
  return Object.freeze(out);
}

function describe(v) {
  if (typeof v === 'bigint') return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/**
 * The settings `strategy` gets from a `[config]` table (an object, for tests: `{ width: 2 }`),
 * read by its schema and checked by its `validateConfig`: exactly what the host does when it
 * loads the plugin.
 */
export function loadConfig(strategy, table = {}) {
  const settings = readConfig(strategy.config, Object.entries(table));
  strategy.validateConfig?.(settings);
  return settings;
}
