import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  Action,
  INTERFACE_VERSION,
  Json,
  Outcome,
  Request,
  StrategyError,
  config,
  fromWit,
  loadConfig,
  log,
  readConfig,
  setLogSink,
  toWit,
  value,
} from '../src/index.js';

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
    .setNote('linked');
  assert.deepEqual(outcome.userUpdates(), [['login', 'c'], ['email', 'b']]);
  assert.equal(outcome.appUserUpdate('n'), 3);
  assert.deepEqual(outcome.decision(), { kind: 'link-user', userId: '00u1' });
  assert.equal(outcome.note(), 'linked');
  assert.ok(!outcome.isEmpty());
  assert.ok(new Outcome().setNote('x').isEmpty());
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
  const read = readConfig({ big: config.integer() }, [['big', fromWit({ tag: 'integer', val: 2n ** 60n })]]);
  assert.equal(read.big, 2n ** 60n);
});

test('a [config] table reads by the schema, with defaults, and refuses what it does not know', () => {
  const schema = {
    attribute: config.string('lastName'),
    strict: config.boolean(false),
    limit: config.integer(3, { min: 1, max: 12 }),
    when: config.oneOf(['leave', 'error'], 'leave'),
  };
  assert.deepEqual(readConfig(schema, []), { attribute: 'lastName', strict: false, limit: 3, when: 'leave' });
  const read = readConfig(schema, [['strict', true], ['limit', 5], ['when', 'error']]);
  assert.deepEqual(read, { attribute: 'lastName', strict: true, limit: 5, when: 'error' });
  assert.ok(Object.isFrozen(read));
  for (const [entries, message] of [
    [[['atribute', 'x']], /unknown key "atribute" \(known: attribute, strict, limit, when\)/],
    [[['attribute', 3]], /attribute must be a string, not 3/],
    [[['limit', 13]], /limit must be an integer from 1 to 12, not 13/],
    [[['limit', '4']], /limit must be an integer/],
    [[['when', 'bogus']], /when must be "leave" or "error", not "bogus"/],
  ]) {
    assert.throws(() => readConfig(schema, entries), (e) => e instanceof StrategyError && message.test(e.message));
  }
  // Without a schema, no key is taken.
  assert.throws(() => readConfig(undefined, [['k', 'v']]), /unknown key "k" \(known: none\)/);
  // loadConfig is what the host does at load: read, then the strategy's own check.
  const strategy = {
    config: { width: config.integer(4) },
    validateConfig(settings) {
      if (settings.width === 7) throw new StrategyError('not seven');
    },
  };
  assert.equal(loadConfig(strategy, { width: 2 }).width, 2);
  assert.equal(loadConfig(strategy).width, 4);
  assert.throws(() => loadConfig(strategy, { width: 7 }), /not seven/);
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
