// The native source of a request: Okta's JSON body, read the way the host reads its request
// for the first plugin (the same value mapping, the same link target rule). It has the shape
// of the contract's `request` resource, so `Request` reads it exactly as it reads the host's.

import { toWit } from './value.js';

// Okta's JSON as the host maps it: scalars and lists of scalars typed, anything else as text.
function jsonToWit(x) {
  if (typeof x === 'number' && Number.isInteger(x) && !Number.isSafeInteger(x)) {
    return { tag: 'json', val: JSON.stringify(x) };
  }
  if (Array.isArray(x) && !x.every((i) => i === null || ['boolean', 'number', 'string'].includes(typeof i))) {
    return { tag: 'json', val: JSON.stringify(x) };
  }
  return toWit(x);
}

/** The event type of a user import hook; the host answers 400 to any other. */
export const EVENT_TYPE = 'com.okta.import.transform';

const isObject = (x) => x !== null && typeof x === 'object' && !Array.isArray(x);

// Okta's JSON by the host's lenient rules (importhook-okta): a null or absent member reads as
// empty, and a member of a type Okta does not document is noted by its path (the host then
// passes the request through without running any strategy).
class Reader {
  irregular = [];
  note(path) {
    if (!this.irregular.includes(path)) this.irregular.push(path);
  }
  object(x, path) {
    if (x === undefined || x === null) return {};
    if (isObject(x)) return x;
    this.note(path);
    return {};
  }
  string(x, path) {
    if (x === undefined || x === null) return undefined;
    if (typeof x === 'string') return x;
    this.note(path);
    return undefined;
  }
  list(x, path) {
    if (x === undefined || x === null) return [];
    if (Array.isArray(x)) return x;
    this.note(path);
    return [];
  }
  /** A list of strings; null elements are dropped, other non-strings are irregular. */
  strings(x, path) {
    return this.list(x, path)
      .map((item) => this.string(item, path))
      .filter((item) => item !== undefined);
  }
}

function application(read, app) {
  if (app === undefined || app === null) return undefined;
  if (!isObject(app)) {
    read.note('data.context.application');
    return undefined;
  }
  const field = (name) => read.string(app[name], `data.context.application.${name}`) ?? '';
  return { id: field('id'), name: field('name'), label: field('label'), status: field('status') };
}

function job(read, job) {
  if (job === undefined || job === null) return undefined;
  if (!isObject(job)) {
    read.note('data.context.job');
    return undefined;
  }
  return {
    id: read.string(job.id, 'data.context.job.id') ?? '',
    kind: read.string(job.type, 'data.context.job.type') ?? '',
  };
}

/**
 * Okta's request body (a string or the parsed object) as a request source. A body the host
 * would not hand to a strategy (another event type, an action that is missing or unknown, a
 * value of a type Okta does not document) throws with the reason, so a test cannot pass on
 * input no plugin would ever see.
 */
export function oktaJsonSource(body) {
  const json = typeof body === 'string' ? JSON.parse(body) : body;
  if (!isObject(json)) throw new Error('an Okta import hook request is a JSON object');
  const read = new Reader();
  const eventId = read.string(json.eventId, 'eventId') ?? '';
  if (json.eventType !== undefined && json.eventType !== null && json.eventType !== EVENT_TYPE) {
    throw new Error(`eventType must be ${EVENT_TYPE}: the host answers 400 and runs no strategy`);
  }
  read.string(json.eventTime, 'eventTime');
  if (typeof json.eventTypeVersion !== 'number') read.string(json.eventTypeVersion, 'eventTypeVersion');
  read.string(json.source, 'source');
  const data = read.object(json.data, 'data');
  const appUser = read.object(data.appUser, 'data.appUser');
  const user = read.object(data.user, 'data.user');
  const actionHolder = read.object(data.action, 'data.action');
  const context = read.object(data.context, 'data.context');
  let result = actionHolder.result;
  if (result !== undefined && result !== null && typeof result !== 'string') {
    read.note('data.action.result');
    result = undefined;
  }
  const profiles = {
    'app-user': read.object(appUser.profile, 'data.appUser.profile'),
    user: read.object(user.profile, 'data.user.profile'),
  };
  const matched = read.string(user.id, 'data.user.id');
  const app = application(read, context.application);
  const importJob = job(read, context.job);
  const conflicts = read.strings(context.conflicts, 'data.context.conflicts');
  const matches = read.list(context.matches, 'data.context.matches');
  const policy = read.strings(context.policy, 'data.context.policy');
  const passedThrough = 'the host passes this request through without running any strategy';
  if (read.irregular.length > 0) throw new Error(`${passedThrough} (unexpected_shape: ${read.irregular[0]})`);
  const actions = { CREATE_USER: 'create-user', LINK_USER: 'link-user' };
  if (!Object.hasOwn(actions, result ?? '')) {
    const why = result === undefined || result === null ? 'missing_action' : 'unknown_action';
    throw new Error(
      `data.action.result must be CREATE_USER or LINK_USER, not ${JSON.stringify(result)}: ${passedThrough} (${why})`,
    );
  }
  const action = actions[result];
  const own = (profile, name) => Object.hasOwn(profiles[profile], name);
  return {
    eventId: () => eventId,
    get: (profile, name) => (own(profile, name) ? jsonToWit(profiles[profile][name]) : undefined),
    names: (profile) => Object.keys(profiles[profile]),
    // Okta's request as the first strategy sees it: nothing changed yet.
    changed: () => [],
    matchedUserId: () => matched,
    action: () => action,
    linkTarget: () => (action === 'link-user' ? matched : undefined),
    conflicts: () => [...conflicts],
    matches: () => matches.map(jsonToWit),
    policy: () => [...policy],
    application: () => app,
    job: () => importJob,
  };
}
