import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Action, Config, INTERFACE_VERSION, Json, Outcome, Request, log, setLogSink, toWit, value } from '../src/index.js';

const SAMPLE = {
  eventId: 'ev1',
  eventType: 'com.okta.import.transform',
  data: {
    context: {
      conflicts: ['login'],
      matches: ['00u1', { id: '00u2' }, { x: 1 }, 7],
      policy: ['EMAIL'],
      application: { id: '0oa1', name: 'csv', label: 'CSV', status: 'ACTIVE' },
      job: { id: 'ij1', type: 'import:users' },
    },
    action: { result: 'LINK_USER' },
    appUser: { profile: { middleName: 'Alexander', groups: ['a', 'b'], age: 40, ratio: 0.5, vip: true, x: null, nested: [[1]] } },
    user: { id: '00u9', profile: { login: 'george.smith@example.com' } },
  },
};

test("Okta's JSON becomes a typed request", () => {
  const request = Request.fromOktaJson(JSON.stringify(SAMPLE));
  assert.equal(request.eventId(), 'ev1');
  const app = request.appUser();
  assert.equal(app.text('middleName'), 'Alexander');
  assert.equal(app.integer('age'), 40);
  assert.equal(app.integer('ratio'), undefined);
  assert.equal(app.number('ratio'), 0.5);
  assert.equal(app.boolean('vip'), true);
  assert.equal(app.get('x'), null);
  assert.ok(app.has('x'));
  assert.equal(app.get('missing'), undefined);
  assert.ok(!app.has('missing'));
  assert.equal(app.text('age'), undefined);
  assert.deepEqual(app.get('groups'), ['a', 'b']);
  assert.ok(app.get('nested') instanceof Json);
  assert.deepEqual(app.get('nested').parse(), [[1]]);
  assert.deepEqual(app.names(), ['middleName', 'groups', 'age', 'ratio', 'vip', 'x', 'nested']);
  assert.deepEqual(app.changed(), []);
  assert.equal(request.user().text('login'), 'george.smith@example.com');
  assert.equal(request.action(), Action.LINK_USER);
  assert.equal(request.linkTarget(), '00u9');
  assert.equal(request.matchedUserId(), '00u9');
  assert.ok(request.hasConflict('login'));
  assert.ok(!request.hasConflict('email'));
  assert.deepEqual(request.matchIds(), ['00u1', '00u2']);
  assert.deepEqual(request.policy(), ['EMAIL']);
  assert.equal(request.application().label, 'CSV');
  assert.equal(request.job().kind, 'import:users');
});

test('a create request has no link target; a request without an action is refused', () => {
  const create = structuredClone(SAMPLE);
  create.data.action.result = 'CREATE_USER';
  assert.equal(Request.fromOktaJson(create).linkTarget(), undefined);
  assert.throws(() => Request.fromOktaJson({ data: {} }), /CREATE_USER or LINK_USER/);
  assert.throws(() => Request.fromOktaJson('not json'));
});

test('the outcome builder replaces repeated names and keeps order', () => {
  const outcome = new Outcome()
    .setUser('login', 'a')
    .setUser('email', 'b')
    .setUser('login', 'c')
    .setAppUser('n', 3)
    .linkUser('00u1')
    .note('linked');
  assert.deepEqual(outcome.userUpdates(), [['login', 'c'], ['email', 'b']]);
  assert.equal(outcome.appUserUpdate('n'), 3);
  assert.deepEqual(outcome.decision(), { kind: 'link-user', userId: '00u1' });
  assert.equal(outcome.noteText(), 'linked');
  assert.ok(!outcome.isEmpty());
  assert.ok(new Outcome().note('x').isEmpty());
  assert.deepEqual(new Outcome().createUser().decision(), { kind: 'create-user' });
  assert.deepEqual(outcome.toWit(), {
    appUserUpdates: [{ name: 'n', value: { tag: 'integer', val: 3n } }],
    userUpdates: [
      { name: 'login', value: { tag: 'text', val: 'c' } },
      { name: 'email', value: { tag: 'text', val: 'b' } },
    ],
    decision: { tag: 'link-user', val: '00u1' },
    note: 'linked',
  });
});

test('values map to the contract as the host maps JSON', () => {
  assert.deepEqual(toWit(null), { tag: 'null' });
  assert.deepEqual(toWit(true), { tag: 'boolean', val: true });
  assert.deepEqual(toWit(7), { tag: 'integer', val: 7n });
  assert.deepEqual(toWit(2n ** 62n), { tag: 'integer', val: 2n ** 62n });
  assert.deepEqual(toWit(1.5), { tag: 'number', val: 1.5 });
  assert.deepEqual(toWit(['a', 1, null]), { tag: 'list', val: [{ tag: 'text', val: 'a' }, { tag: 'integer', val: 1n }, { tag: 'null' }] });
  assert.deepEqual(toWit({ a: [1] }), { tag: 'json', val: '{"a":[1]}' });
  assert.deepEqual(toWit([[1]]), { tag: 'json', val: '[[1]]' });
  assert.deepEqual(toWit(value.number(2)), { tag: 'number', val: 2 });
  assert.deepEqual(toWit(new Json('{"b":2}')), { tag: 'json', val: '{"b":2}' });
  assert.throws(() => toWit(undefined), /undefined/);
  assert.throws(() => toWit(NaN), /not a JSON number/);
  assert.throws(() => toWit(2n ** 64n), /64 bits/);
  // An integer past 2^53 reads back as a bigint, not a rounded number.
  const big = Request.fromOktaJson({ data: { action: { result: 'CREATE_USER' } } });
  assert.equal(big.appUser().get('x'), undefined);
  const config = new Config({}, () => [{ name: 'big', value: { tag: 'integer', val: 2n ** 60n } }]);
  assert.equal(config.integer('big'), 2n ** 60n);
});

test('config getters read the table in order, typed', () => {
  const config = new Config({ attribute: 'lastName', strict: true, limit: 3 });
  assert.equal(config.text('attribute'), 'lastName');
  assert.equal(config.boolean('strict'), true);
  assert.equal(config.integer('limit'), 3);
  assert.equal(config.text('limit'), undefined);
  assert.equal(config.get('nope'), undefined);
  assert.ok(config.has('strict') && !config.has('nope'));
  assert.deepEqual(config.keys(), ['attribute', 'strict', 'limit']);
  // The host's table is fetched once, on first use.
  let fetched = 0;
  const host = new Config({}, () => {
    fetched += 1;
    return [{ name: 'k', value: { tag: 'text', val: 'v' } }];
  });
  assert.equal(fetched, 0);
  assert.equal(host.text('k'), 'v');
  assert.deepEqual(host.entries(), [['k', 'v']]);
  assert.equal(fetched, 1);
});

test('log lines go to the sink with their level', () => {
  const lines = [];
  setLogSink((level, message) => lines.push([level, message]));
  try {
    log.info('hello');
    log.warn(42);
  } finally {
    setLogSink((level, message) => console.error(`[${level}] ${message}`));
  }
  assert.deepEqual(lines, [['info', 'hello'], ['warn', '42']]);
});

test("the SDK speaks the repository's WIT version", () => {
  const wit = readFileSync(new URL('../../plugin-sdk/wit/importhook.wit', import.meta.url), 'utf8');
  const version = /^package importhook:plugin@([0-9.]+);/m.exec(wit)[1];
  assert.equal(INTERFACE_VERSION, version);
  // The glue names no version: the build pins its host imports to the WIT's.
  const glue = readFileSync(new URL('../src/component.js', import.meta.url), 'utf8');
  const imports = [...glue.matchAll(/from '(importhook:plugin\/[^']+)'/g)].map((m) => m[1]);
  assert.ok(imports.length >= 2);
  assert.ok(imports.every((i) => !i.includes('@')), `component.js pins ${imports}`);
});
