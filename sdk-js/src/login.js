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

// Okta's own rules, the ones the host applies (the Rust crate importhook-login; pinned for
// every SDK by conformance/login-equivalence.json and conformance/login-acceptance.json).

/**
 * The key two logins share exactly when Okta holds them to be one login ("Logins are not
 * considered unique if they differ only in case and/or diacritical marks", Okta's user
 * profile docs): canonical decomposition, combining marks removed, each character lowercased.
 * `equivalent('isáàc.bröck@example.com') === equivalent('Isaac.Brock@example.com')`.
 */
export function equivalent(login) {
  const chars = [];
  for (const ch of login) {
    const cp = ch.codePointAt(0);
    if (inRanges(MARKS, cp)) continue;
    const folded = foldOf(cp) ?? ch;
    // Per character, so a capital sigma always lowercases the same way whatever follows.
    for (const c of folded) for (const lower of c.toLowerCase()) chars.push(lower);
  }
  return composeHangul(chars);
}

/** Most characters (code points) in a login (Okta's schema: `maxLength` 100). */
export const MAX_LOGIN_CHARS = 100;
/** Fewest characters in a login where logins are email addresses (`minLength` 5). */
export const MIN_EMAIL_LOGIN_CHARS = 5;

/** Why Okta would refuse a login: the problem's code and its words (never the value). */
export const LOGIN_PROBLEMS = Object.freeze({
  empty: 'login is empty or whitespace only',
  control_character: 'login contains a control character',
  bidi_control: 'login contains a bidirectional control character',
  too_long: "login is longer than Okta's 100 characters",
  too_short: "login is shorter than Okta's 5 characters for email logins",
  not_email:
    "login is not an email address (local@domain), as Okta requires unless the org's login pattern says otherwise",
});

// Rust's char::is_whitespace (White_Space) and char::is_control (Cc), as code points.
const WHITE_SPACE = new Set([9, 10, 11, 12, 13, 32, 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000]);
const isWhiteSpace = (cp) => WHITE_SPACE.has(cp) || (cp >= 0x2000 && cp <= 0x200a);
const isControl = (cp) => cp <= 0x1f || (cp >= 0x7f && cp <= 0x9f);

/** True for a bidirectional control (Unicode Bidi_Control). */
export function isBidiControl(ch) {
  const cp = ch.codePointAt(0);
  return cp === 0x61c || cp === 0x200e || cp === 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const ATEXT_ASCII = "!#$%&'*+-/=?^_`{|}~";
const isAtext = (c) => c.codePointAt(0) > 0x7f || /^[A-Za-z0-9]$/.test(c) || ATEXT_ASCII.includes(c);

function isQuotedContent(inner) {
  const chars = [...inner];
  for (let i = 0; i < chars.length; i++) {
    const cp = chars[i].codePointAt(0);
    if (chars[i] === '\\') {
      const next = chars[++i];
      if (next === undefined || next.codePointAt(0) < 0x20 || next.codePointAt(0) > 0x7e) return false;
    } else if (chars[i] === '"') return false;
    else if (cp < 0x20 || cp === 0x7f) return false;
  }
  return true;
}

function isLocalPart(local) {
  if (local.length >= 2 && local.startsWith('"') && local.endsWith('"')) return isQuotedContent(local.slice(1, -1));
  return local.length > 0 && local.split('.').every((atom) => atom.length > 0 && [...atom].every(isAtext));
}

function isDomain(domain) {
  return (
    domain.length > 0 &&
    domain
      .split('.')
      .every((label) => label.length > 0 && !label.startsWith('-') && !label.endsWith('-') && [...label].every((c) => c === '-' || isAlphanumeric(c)))
  );
}

function isAddressLiteral(domain) {
  if (!(domain.length > 2 && domain.startsWith('[') && domain.endsWith(']'))) return false;
  return [...domain.slice(1, -1)].every((c) => {
    const cp = c.codePointAt(0);
    return cp >= 0x21 && cp <= 0x7e && c !== '[' && c !== ']' && c !== '\\';
  });
}

/**
 * Whether Okta accepts `login` in a user profile: `null` when it does, else the problem's code
 * (a key of `LOGIN_PROBLEMS`). `format` is the host's `login_format`: `'email'` (Okta's
 * default: an email address of 5 to 100 characters) or `'any'` (the org's login pattern allows
 * any non-empty value up to 100 characters). Control and bidirectional-control characters are
 * refused in either.
 */
export function check(login, format = 'email') {
  if (format !== 'email' && format !== 'any') throw new TypeError(`login format ${format} is not one of email, any`);
  const cps = [...login].map((c) => c.codePointAt(0));
  if (cps.every(isWhiteSpace)) return 'empty';
  if (cps.some(isControl)) return 'control_character';
  if ([...login].some(isBidiControl)) return 'bidi_control';
  if (cps.length > MAX_LOGIN_CHARS) return 'too_long';
  if (format === 'email') {
    if (cps.length < MIN_EMAIL_LOGIN_CHARS) return 'too_short';
    const at = login.lastIndexOf('@');
    if (at < 0) return 'not_email';
    const domain = login.slice(at + 1);
    if (!isLocalPart(login.slice(0, at)) || !(isDomain(domain) || isAddressLiteral(domain))) return 'not_email';
  }
  return null;
}
