import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fold, isAlphanumeric, isBlank, isMark, join, slug, split } from '../src/login.js';
import { UNICODE_VERSION } from '../src/unicode-data.js';
import { readFileSync } from 'node:fs';

// The cases of conformance/login-normalize.json, which the Rust and Python SDKs read too.
const normalize = JSON.parse(readFileSync(new URL('../../conformance/login-normalize.json', import.meta.url), 'utf8'));

test('fold, slug, split and blank match the shared vectors', () => {
  for (const key of ['fold', 'slug', 'split', 'blank']) assert.ok(normalize[key].length > 0, key);
  for (const [input, folded] of normalize.fold) assert.equal(fold(input), folded, `fold(${JSON.stringify(input)})`);
  for (const [input, slugged] of normalize.slug) assert.equal(slug(input), slugged, `slug(${JSON.stringify(input)})`);
  for (const [login, local, domain] of normalize.split) {
    assert.deepEqual(split(login), [local, domain ?? undefined], `split(${JSON.stringify(login)})`);
    assert.equal(join(local, domain ?? undefined), login);
  }
  for (const [text, blank] of normalize.blank) assert.equal(isBlank(text), blank, JSON.stringify(text));
});

// The engine inside a component has no ICU: the SDK's tables must give what ICU gives.
// On a mismatch, regenerate: node scripts/gen-unicode.js > src/unicode-data.js
test('the Unicode tables agree with ICU for every code point', () => {
  assert.equal(UNICODE_VERSION, process.versions.unicode, 'tables from another Unicode version: regenerate them');
  const mark = /^\p{M}$/u;
  const alnum = /^[\p{Alphabetic}\p{N}]$/u;
  const reference = (s) =>
    [...s.trim().normalize('NFD')].filter((c) => !mark.test(c)).join('').normalize('NFC').toLowerCase();
  // Okta's equivalence as the Rust crate computes it: NFD, marks out, per-character lowercase, NFC.
  const equivalence = (s) =>
    [...s.normalize('NFD')].filter((c) => !mark.test(c)).map((c) => c.toLowerCase()).join('').normalize('NFC');
  let checked = 0;
  for (let cp = 0; cp < 0x110000; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const ch = String.fromCodePoint(cp);
    assert.equal(isMark(ch), mark.test(ch), `isMark U+${cp.toString(16)}`);
    assert.equal(isAlphanumeric(ch), alnum.test(ch), `isAlphanumeric U+${cp.toString(16)}`);
    const word = `x${ch}y`;
    if (fold(word) !== reference(word)) assert.fail(`fold U+${cp.toString(16)}: ${fold(word)} != ${reference(word)}`);
    if (equivalent(word) !== equivalence(word)) {
      assert.fail(`equivalent U+${cp.toString(16)}: ${equivalent(word)} != ${equivalence(word)}`);
    }
    checked += 1;
  }
  assert.ok(checked > 1_000_000);
});

// The vectors the host and the Rust and Python SDKs read too.
import { check, equivalent, LOGIN_PROBLEMS } from '../src/login.js';
import { Outcome } from '../src/index.js';

const vectors = (name) => JSON.parse(readFileSync(new URL(`../../conformance/${name}`, import.meta.url), 'utf8'));

test("Okta's login equivalence matches the shared vectors", () => {
  const v = vectors('login-equivalence.json');
  assert.ok(v.equivalent.length >= 10);
  for (const [a, b] of v.equivalent) assert.equal(equivalent(a), equivalent(b), `${a} ~ ${b}`);
  for (const [a, b] of v.distinct) assert.notEqual(equivalent(a), equivalent(b), `${a} !~ ${b}`);
  for (const [login, key] of v.keys) assert.equal(equivalent(login), key, `key of ${login}`);
});

test('what Okta accepts as a login matches the shared vectors', () => {
  const { cases } = vectors('login-acceptance.json');
  assert.ok(cases.length >= 30);
  for (const c of cases) {
    assert.equal(check(c.login, 'email'), c.email, `${JSON.stringify(c.login)} as email`);
    assert.equal(check(c.login, 'any'), c.any, `${JSON.stringify(c.login)} as any`);
  }
  assert.throws(() => check('a@b.c', 'upn'));
});

test("an outcome with a login Okta would refuse fails the host's check natively", () => {
  assert.equal(new Outcome().checkLogin(), null);
  assert.equal(new Outcome().setUser('login', 'ann.lee@example.com').checkLogin(), null);
  assert.equal(new Outcome().setUser('login', 'ann.lee').checkLogin(), LOGIN_PROBLEMS.not_email);
  assert.equal(new Outcome().setUser('login', 'ann.lee').checkLogin('any'), null);
  assert.equal(new Outcome().setUser('login', 'Joe\u0007@x.io').checkLogin('any'), LOGIN_PROBLEMS.control_character);
  assert.equal(new Outcome().setUser('login', 7).checkLogin(), 'the user profile login must be text');
});
