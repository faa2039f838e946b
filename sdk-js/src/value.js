// Profile values between JavaScript and the contract's `value` variant (WIT
// importhook:plugin/types): null, boolean, integer (s64), number (f64), text, a list of
// scalars, or any other JSON value as compact JSON text.

/** A JSON value the contract carries as text (an object, a nested array, a huge number). */
export class Json {
  constructor(text) {
    this.text = String(text);
  }
  /** The value, parsed. */
  parse() {
    return JSON.parse(this.text);
  }
  toString() {
    return this.text;
  }
}

/** Explicit constructors, for when the JavaScript type is not enough (an f64 that is whole). */
export const value = Object.freeze({
  integer: (n) => ({ tag: 'integer', val: BigInt(n) }),
  number: (x) => ({ tag: 'number', val: Number(x) }),
  json: (text) => ({ tag: 'json', val: String(text) }),
});

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;

function integer(val) {
  const n = BigInt(val);
  return Number.isSafeInteger(Number(n)) && BigInt(Number(n)) === n ? Number(n) : n;
}

function scalarFromWit(s) {
  switch (s.tag) {
    case 'null':
      return null;
    case 'integer':
      return integer(s.val);
    default:
      return s.val;
  }
}

/**
 * A contract value as JavaScript: `null`, a boolean, a number (an integer outside the safe
 * range is a `bigint`), a string, an array of those, or a {@link Json}.
 */
export function fromWit(v) {
  switch (v.tag) {
    case 'list':
      return v.val.map(scalarFromWit);
    case 'json':
      return new Json(v.val);
    default:
      return scalarFromWit(v);
  }
}

function scalarToWit(x, path) {
  if (x === null) return { tag: 'null' };
  switch (typeof x) {
    case 'boolean':
      return { tag: 'boolean', val: x };
    case 'string':
      return { tag: 'text', val: x };
    case 'bigint':
      if (x < I64_MIN || x > I64_MAX) throw new TypeError(`${path}: ${x} does not fit in 64 bits`);
      return { tag: 'integer', val: x };
    case 'number':
      if (!Number.isFinite(x)) throw new TypeError(`${path}: ${x} is not a JSON number`);
      return Number.isSafeInteger(x) ? { tag: 'integer', val: BigInt(x) } : { tag: 'number', val: x };
    default:
      return undefined;
  }
}

const TAGS = new Set(['null', 'boolean', 'integer', 'number', 'text', 'list', 'json']);

/** A JavaScript value as a contract value (see {@link fromWit}; plain objects become JSON). */
export function toWit(x, path = 'value') {
  if (x === undefined) throw new TypeError(`${path}: undefined is not a value (use null)`);
  if (x instanceof Json) return { tag: 'json', val: x.text };
  if (x !== null && typeof x === 'object' && TAGS.has(x.tag) && Object.keys(x).every((k) => k === 'tag' || k === 'val')) {
    return x;
  }
  const scalar = scalarToWit(x, path);
  if (scalar) return scalar;
  if (Array.isArray(x)) {
    const items = x.map((item) => (Array.isArray(item) ? undefined : scalarToWit(item, path)));
    if (items.every((item) => item !== undefined)) return { tag: 'list', val: items };
  }
  if (typeof x === 'object') return { tag: 'json', val: JSON.stringify(x) };
  throw new TypeError(`${path}: a ${typeof x} is not a value`);
}
