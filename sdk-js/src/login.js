// Helpers every login strategy needs, the same as the Rust SDK's `importhook_sdk::login`:
// split a login at its domain, fold it (no surrounding space, no diacritics, lowercase), and
// turn a name into a login-safe slug. They use the SDK's own Unicode tables (unicode-data.js),
// not String.prototype.normalize: the engine inside a component has no ICU, and a strategy
// must behave the same in `node --test` and in the plugin.

import { ALNUM, FOLDS, MARKS } from './unicode-data.js';

function inRanges(ranges, cp) {
  let lo = 0;
  let hi = ranges.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (cp < ranges[2 * mid]) hi = mid - 1;
    else if (cp > ranges[2 * mid + 1]) lo = mid + 1;
    else return true;
  }
  return false;
}

// Built when the module is evaluated: inside a component that is at build time (the engine's
// state is snapshotted after the top level ran), so no call pays for it.
const FOLD_MAP = new Map();
for (let i = 0; i < FOLDS.length; i += 2) FOLD_MAP.set(FOLDS[i], FOLDS[i + 1]);
function foldOf(cp) {
  return FOLD_MAP.get(cp);
}

/** True for a combining mark (General_Category M). */
export function isMark(ch) {
  return inRanges(MARKS, ch.codePointAt(0));
}

/** True for a letter or digit as Rust's `char::is_alphanumeric` (Alphabetic or Numeric). */
export function isAlphanumeric(ch) {
  return inRanges(ALNUM, ch.codePointAt(0));
}

// Hangul: NFD turns a syllable into jamo and NFC recomposes them; do the same for jamo that
// arrive separately.
const S_BASE = 0xac00, L_BASE = 0x1100, V_BASE = 0x1161, T_BASE = 0x11a7;
const L_COUNT = 19, V_COUNT = 21, T_COUNT = 28, N_COUNT = V_COUNT * T_COUNT;

function composeHangul(chars) {
  const out = [];
  for (const ch of chars) {
    const cp = ch.codePointAt(0);
    const last = out.length ? out[out.length - 1].codePointAt(0) : -1;
    const l = last - L_BASE, v = cp - V_BASE;
    if (l >= 0 && l < L_COUNT && v >= 0 && v < V_COUNT) {
      out[out.length - 1] = String.fromCodePoint(S_BASE + (l * V_COUNT + v) * T_COUNT);
      continue;
    }
    const s = last - S_BASE, t = cp - T_BASE;
    if (s >= 0 && s < L_COUNT * N_COUNT && s % T_COUNT === 0 && t > 0 && t < T_COUNT) {
      out[out.length - 1] = String.fromCodePoint(last + t);
      continue;
    }
    out.push(ch);
  }
  return out.join('');
}

/**
 * Trimmed, without diacritics, lowercase: `"  José.Núñez@Example.COM "` →
 * `"jose.nunez@example.com"`. Diacritics go by canonical decomposition minus combining
 * marks; letters that do not decompose (`ß`, `ø`, `ł`) stay as they are.
 */
export function fold(text) {
  const chars = [];
  for (const ch of text.trim()) {
    const cp = ch.codePointAt(0);
    if (inRanges(MARKS, cp)) continue;
    const folded = foldOf(cp);
    if (folded === undefined) chars.push(ch);
    else for (const c of folded) chars.push(c);
  }
  return composeHangul(chars).toLowerCase();
}

/**
 * A name as it goes into a login: folded, words joined by dots, keeping only letters, digits
 * and hyphens: `" Mary  Ann "` → `"mary.ann"`, `"Élodie"` → `"elodie"`. Empty when nothing
 * usable is left.
 */
export function slug(name) {
  return fold(name)
    .split(/\s+/)
    .map((word) => [...word].filter((c) => c === '-' || isAlphanumeric(c)).join(''))
    .filter((word) => word.length > 0)
    .join('.');
}

/** `[local, domain]` of `login`, split at the last `@` (`domain` undefined without one). */
export function split(login) {
  const at = login.lastIndexOf('@');
  return at < 0 ? [login, undefined] : [login.slice(0, at), login.slice(at + 1)];
}

/** `local@domain`, or `local` alone without a domain. */
export function join(local, domain) {
  return domain === undefined ? local : `${local}@${domain}`;
}

/** True when `login` is empty or only whitespace: never a login to send to Okta. */
export function isBlank(login) {
  return login.trim().length === 0;
}
