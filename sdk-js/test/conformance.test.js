// The native helper against conformance/okta-requests.json, the vectors the host's contract
// test and the Rust and Python SDKs read too: what a strategy reads from each Okta request, or
// that no strategy runs on it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Request } from '../src/index.js';
import { oktaJsonSource } from '../src/okta-json.js';

const vectors = JSON.parse(readFileSync(new URL('../../conformance/okta-requests.json', import.meta.url), 'utf8'));

/** A contract value in the vectors' tagged form (s64 as a plain number). */
function tagged(v) {
  if (v.tag === 'null') return { tag: 'null' };
  if (v.tag === 'list') return { tag: 'list', val: v.val.map(tagged) };
  return { tag: v.tag, val: v.tag === 'integer' ? Number(v.val) : v.val };
}

function reads(body) {
  const source = oktaJsonSource(body);
  const request = new Request(source);
  const profile = (kind) => source.names(kind).map((name) => [name, tagged(source.get(kind, name))]);
  return {
    eventId: request.eventId(),
    action: request.action(),
    linkTarget: request.linkTarget() ?? null,
    matchedUserId: request.matchedUserId() ?? null,
    conflicts: request.conflicts(),
    policy: request.policy(),
    matches: source.matches().map(tagged),
    matchIds: request.matchIds(),
    application: request.application() ?? null,
    job: request.job() ?? null,
    appUser: profile('app-user'),
    user: profile('user'),
  };
}

test('there are vectors of both kinds', () => {
  assert.ok(vectors.cases.filter((c) => c.reads).length >= 3);
  assert.ok(vectors.cases.filter((c) => c.refused).length >= 10);
});

for (const c of vectors.cases) {
  test(`okta request vector: ${c.name}`, () => {
    const body = JSON.stringify(c.body);
    if (c.refused) assert.throws(() => Request.fromOktaJson(body), undefined, c.refused);
    else assert.deepEqual(reads(body), c.reads);
  });
}

// The JSON-to-WIT value rule of conformance/json-values.json, which the other SDKs read too.
const values = JSON.parse(readFileSync(new URL('../../conformance/json-values.json', import.meta.url), 'utf8'));

test('json values map as the vectors say', () => {
  assert.ok(values.cases.length >= 10);
  for (const c of values.cases) {
    const body = { data: { action: { result: 'CREATE_USER' }, appUser: { profile: { v: JSON.parse(c.json) } } } };
    assert.deepEqual(tagged(oktaJsonSource(body).get('app-user', 'v')), c.value, c.json);
  }
});
