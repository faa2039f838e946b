// Write importhook conflict strategies in JavaScript: typed access to the imported user
// (`Request`), a builder for what to change (`Outcome`), the plugin's `[config]` read by a
// schema the strategy declares (`config`, `loadConfig`), logging through the host (`log`), and
// `Request.fromOktaJson` so a strategy is unit-tested with `node --test`, without building
// wasm. The same shape as the Rust SDK (importhook-sdk).
//
// A strategy is a module whose default export is
//   { config?: { key: config.string(default), ... },
//     transform(request, settings) -> Outcome, validateConfig?(settings) }
// built into a component with `importhook-build-js` (bin/build.js). Throw a `StrategyError`
// to fail a call (or refuse a config) with a message; any other exception is a panic. Without
// a `config` schema the strategy takes no `[config]` keys.

import { fromWit, toWit, Json, value } from './value.js';
import { oktaJsonSource } from './okta-json.js';
import { WIT_VERSION } from './wit-version.js';
import { StrategyError } from './error.js';
import { config, loadConfig, readConfig } from './config.js';
import * as login from './login.js';

export { Json, value, login, fromWit, toWit, StrategyError, config, loadConfig, readConfig };

/** The WIT package version this SDK speaks (`importhook:plugin@…`, read from plugin-sdk/wit). */
export const INTERFACE_VERSION = WIT_VERSION;

/** What Okta will do with the imported user (the contract's `action` names). */
export const Action = Object.freeze({ CREATE_USER: 'create-user', LINK_USER: 'link-user' });

/** A read-only view of one profile. Each read asks the source (the host) for that one value. */
export class Profile {
  #source;
  #kind;
  constructor(source, kind) {
    this.#source = source;
    this.#kind = kind;
  }
  /** `'app-user'` or `'user'`. */
  get kind() {
    return this.#kind;
  }
  /** The value of `name`: `undefined` when absent, `null` for a JSON null (see value.js). */
  get(name) {
    const v = this.#source.get(this.#kind, name);
    return v === undefined ? undefined : fromWit(v);
  }
  /** True when the profile has `name` (even as null). */
  has(name) {
    return this.#source.get(this.#kind, name) !== undefined;
  }
  /** The text value of `name`; `undefined` when absent, null or not text. */
  text(name) {
    const v = this.get(name);
    return typeof v === 'string' ? v : undefined;
  }
  /** The boolean value of `name`. */
  boolean(name) {
    const v = this.get(name);
    return typeof v === 'boolean' ? v : undefined;
  }
  /** The integer value of `name` (a `bigint` outside the safe range). */
  integer(name) {
    const v = this.#source.get(this.#kind, name);
    return v?.tag === 'integer' ? fromWit(v) : undefined;
  }
  /** The number value of `name` (integer or not). */
  number(name) {
    const v = this.#source.get(this.#kind, name);
    return v?.tag === 'integer' || v?.tag === 'number' ? Number(v.val) : undefined;
  }
  /** The attribute names, in Okta's order. */
  names() {
    return this.#source.names(this.#kind);
  }
  /** The attributes the strategies before this one changed, in first-change order. */
  changed() {
    return this.#source.changed(this.#kind);
  }
  /** True when a strategy before this one changed `name`. */
  wasChanged(name) {
    return this.changed().includes(name);
  }
  /** All `[name, value]` pairs, in Okta's order (reads every value: prefer `get`). */
  entries() {
    return this.names().map((name) => [name, this.get(name)]);
  }
}

/** One imported user: Okta's request, with earlier strategies' changes applied. */
export class Request {
  #source;
  /** A request reading from `source`: the host's request resource, or `oktaJsonSource`. */
  constructor(source) {
    this.#source = source;
  }
  /**
   * Builds a request from the JSON body Okta sends (a string or the parsed object), as the
   * host presents it to the first plugin. For native unit tests.
   */
  static fromOktaJson(body) {
    return new Request(oktaJsonSource(body));
  }
  /** Okta's id of this hook call. */
  eventId() {
    return this.#source.eventId();
  }
  /** The app user profile (`data.appUser.profile`), e.g. the CSV columns. */
  appUser() {
    return new Profile(this.#source, 'app-user');
  }
  /** The projected Okta user profile (`data.user.profile`). */
  user() {
    return new Profile(this.#source, 'user');
  }
  /** The existing Okta user the import matched (`data.user.id`), or undefined. */
  matchedUserId() {
    return this.#source.matchedUserId();
  }
  /** The current action: `Action.CREATE_USER` or `Action.LINK_USER`. */
  action() {
    return this.#source.action();
  }
  /** The Okta user the import will link to, when the action is `Action.LINK_USER`. */
  linkTarget() {
    return this.#source.linkTarget();
  }
  /** Attributes in conflict (`data.context.conflicts`), e.g. `['login']`. */
  conflicts() {
    return this.#source.conflicts();
  }
  /** True when `attribute` is among the conflicts. */
  hasConflict(attribute) {
    return this.conflicts().includes(attribute);
  }
  /** `data.context.matches` as Okta sent them (ids are strings, objects are `Json`). */
  matches() {
    return this.#source.matches().map(fromWit);
  }
  /** The Okta user ids of `data.context.matches`: ids, or objects with a string `id`. */
  matchIds() {
    const ids = [];
    for (const m of this.matches()) {
      let id = m;
      if (m instanceof Json) {
        try {
          id = m.parse()?.id;
        } catch {
          id = undefined;
        }
      }
      if (typeof id === 'string' && id.length > 0) ids.push(id);
    }
    return ids;
  }
  /** `data.context.policy`. */
  policy() {
    return this.#source.policy();
  }
  /** `data.context.application`: `{ id, name, label, status }`, or undefined. */
  application() {
    return this.#source.application();
  }
  /** `data.context.job`: `{ id, kind }`, or undefined. */
  job() {
    return this.#source.job();
  }
}

function upsert(list, name, v) {
  const existing = list.find((a) => a.name === name);
  if (existing) existing.value = v;
  else list.push({ name, value: v });
}

/** The changes a strategy asks for, built fluently. An empty outcome changes nothing. */
export class Outcome {
  #appUser = [];
  #user = [];
  #decision = undefined;
  #note = undefined;

  /** Sets an attribute of the app user profile (`com.okta.appUser.profile.update`). */
  setAppUser(name, v) {
    upsert(this.#appUser, name, toWit(v, `app user ${name}`));
    return this;
  }
  /** Sets an attribute of the Okta user profile (`com.okta.user.profile.update`). */
  setUser(name, v) {
    upsert(this.#user, name, toWit(v, `user ${name}`));
    return this;
  }
  /** Decides to create a new Okta user. */
  createUser() {
    this.#decision = { tag: 'create-user' };
    return this;
  }
  /** Decides to link the imported user to the existing Okta user `userId`. */
  linkUser(userId) {
    this.#decision = { tag: 'link-user', val: String(userId) };
    return this;
  }
  /** Adds a short note to the host's per-plugin report. Never put personal data in it. */
  setNote(text) {
    this.#note = String(text);
    return this;
  }
  /** The app user update for `name`, if any (as JavaScript). */
  appUserUpdate(name) {
    const a = this.#appUser.find((x) => x.name === name);
    return a && fromWit(a.value);
  }
  /** The Okta user update for `name`, if any (as JavaScript). */
  userUpdate(name) {
    const a = this.#user.find((x) => x.name === name);
    return a && fromWit(a.value);
  }
  /** All app user updates, `[name, value]` in order. */
  appUserUpdates() {
    return this.#appUser.map((a) => [a.name, fromWit(a.value)]);
  }
  /** All Okta user updates, `[name, value]` in order. */
  userUpdates() {
    return this.#user.map((a) => [a.name, fromWit(a.value)]);
  }
  /** The decision: `{ kind: 'create-user' }`, `{ kind: 'link-user', userId }`, or undefined. */
  decision() {
    if (!this.#decision) return undefined;
    return this.#decision.tag === 'link-user'
      ? { kind: 'link-user', userId: this.#decision.val }
      : { kind: 'create-user' };
  }
  /** The note, if any. */
  note() {
    return this.#note;
  }
  /**
   * Whether the host would pass the Okta user `login` this outcome sets, under the org's
   * `login_format` (`'email'`, Okta's default, or `'any'`): `null` when it would (or no login
   * is set), else why not. The host refuses such an outcome as `invalid_output` (the plugin's
   * `on_error` applies) because Okta would refuse the user: call it in unit tests so they
   * fail first.
   */
  checkLogin(format = 'email') {
    const a = this.#user.find((x) => x.name === 'login');
    if (!a) return null;
    if (a.value.tag !== 'text') return 'the user profile login must be text';
    const problem = login.check(a.value.val, format);
    return problem && login.LOGIN_PROBLEMS[problem];
  }
  /** True when the outcome asks for nothing (a note alone changes nothing). */
  isEmpty() {
    return this.#appUser.length === 0 && this.#user.length === 0 && !this.#decision;
  }
  /** The contract's `outcome` record. */
  toWit() {
    return {
      appUserUpdates: this.#appUser.map((a) => ({ ...a })),
      userUpdates: this.#user.map((a) => ({ ...a })),
      decision: this.#decision,
      note: this.#note,
    };
  }
}

// Where log lines go: stderr natively, the host's `log` interface inside a plugin.
let sink = (level, message) => console.error(`[${level}] ${message}`);

/** @internal Used by the plugin glue (component.js). */
export function setLogSink(write) {
  sink = write;
}

/** Logging through the host (tagged with the plugin's name). Never log personal data. */
export const log = Object.freeze({
  trace: (message) => sink('trace', String(message)),
  debug: (message) => sink('debug', String(message)),
  info: (message) => sink('info', String(message)),
  warn: (message) => sink('warn', String(message)),
  error: (message) => sink('error', String(message)),
});
