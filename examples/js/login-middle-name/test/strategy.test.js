// Native unit tests of the strategy: `npm test` (node --test), no wasm built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Request, StrategyError, loadConfig } from 'importhook-sdk';
import strategy from '../src/strategy.js';

function request({ action = 'CREATE_USER', conflicts = ['login'], middle = 'Alexander', login = 'george.smith@example.com' } = {}) {
  return Request.fromOktaJson({
    eventId: 'e',
    data: {
      context: { conflicts },
      action: { result: action },
      appUser: { profile: { middleName: middle, nickName: 'Alex' } },
      user: { profile: { login } },
    },
  });
}

const run = (options, settings = loadConfig(strategy)) => strategy.transform(request(options), settings);

test("Okta's guide example", () => {
  const outcome = run();
  assert.equal(outcome.userUpdate('login'), 'george.alexander.smith@example.com');
  // A login the host would refuse (as Okta would) fails here first.
  assert.equal(outcome.checkLogin('email'), null);
});

test('surrounding whitespace is left out of the proposal', () => {
  const outcome = run({ login: ' george.smith@example.com ' });
  assert.equal(outcome.userUpdate('login'), 'george.alexander.smith@example.com');
  assert.equal(outcome.checkLogin('email'), null);
});

test('no conflict means no change', () => {
  assert.ok(run({ conflicts: [] }).isEmpty());
});

test('multi-word middle names and logins without dots', () => {
  assert.equal(run({ middle: ' Mary  Ann ', login: 'jo@example.com' }).userUpdate('login'), 'jo.mary.ann@example.com');
});

test('a missing middle name is configurable', () => {
  assert.ok(run({ middle: null }).isEmpty());
  assert.throws(() => run({ middle: null }, loadConfig(strategy, { when_missing: 'error' })), StrategyError);
});

test('attribute names are configurable', () => {
  const outcome = run({ middle: null }, loadConfig(strategy, { middle_name_attribute: 'nickName' }));
  assert.equal(outcome.userUpdate('login'), 'george.alex.smith@example.com');
});

test('a retry does not infix twice', () => {
  assert.ok(run({ login: 'george.alexander.smith@example.com' }).isEmpty());
});

test('a user Okta will link keeps its login', () => {
  assert.ok(run({ action: 'LINK_USER' }).isEmpty());
});

test('the middle name is normalized like the login', () => {
  assert.equal(run({ middle: 'Élodie', login: 'sally.admin@example.com' }).userUpdate('login'), 'sally.elodie.admin@example.com');
  assert.equal(run({ middle: "Jean-Luc O'Neil!" }).userUpdate('login'), 'george.jean-luc.oneil.smith@example.com');
});

test('a blank login is never rewritten', () => {
  assert.equal(run({ login: '   ' }).userUpdate('login'), undefined);
});

test('a wrong or misspelled config is refused', () => {
  assert.doesNotThrow(() => loadConfig(strategy));
  assert.throws(() => loadConfig(strategy, { when_missing: 'skip' }), /when_missing/);
  assert.throws(() => loadConfig(strategy, { login_attribute: true }), /must be a string/);
  assert.throws(() => loadConfig(strategy, { middle_name_atribute: 'x' }), /unknown key/);
});
