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

function object(x) {
  return x !== null && typeof x === 'object' && !Array.isArray(x) ? x : {};
}

function strings(x) {
  return Array.isArray(x) ? x.filter((s) => typeof s === 'string') : [];
}

function text(x) {
  return typeof x === 'string' ? x : '';
}

/** Okta's request body (a string or the parsed object) as a request source. */
export function oktaJsonSource(body) {
  const json = typeof body === 'string' ? JSON.parse(body) : body;
  const data = object(object(json).data);
  const result = object(data.action).result;
  const actions = { CREATE_USER: 'create-user', LINK_USER: 'link-user' };
  if (!(result in actions)) {
    throw new Error(`data.action.result must be CREATE_USER or LINK_USER, not ${JSON.stringify(result)}`);
  }
  const action = actions[result];
  const profiles = {
    'app-user': object(object(data.appUser).profile),
    user: object(object(data.user).profile),
  };
  const matched = typeof object(data.user).id === 'string' ? data.user.id : undefined;
  const context = object(data.context);
  const own = (profile, name) => Object.prototype.hasOwnProperty.call(profiles[profile], name);
  return {
    eventId: () => text(json.eventId),
    get: (profile, name) => (own(profile, name) ? jsonToWit(profiles[profile][name]) : undefined),
    names: (profile) => Object.keys(profiles[profile]),
    // Okta's request as the first strategy sees it: nothing changed yet.
    changed: () => [],
    matchedUserId: () => matched,
    action: () => action,
    linkTarget: () => (action === 'link-user' ? matched : undefined),
    conflicts: () => strings(context.conflicts),
    matches: () => (Array.isArray(context.matches) ? context.matches.map(jsonToWit) : []),
    policy: () => strings(context.policy),
    application: () => {
      const app = context.application;
      if (app === null || typeof app !== 'object' || Array.isArray(app)) return undefined;
      return { id: text(app.id), name: text(app.name), label: text(app.label), status: text(app.status) };
    },
    job: () => {
      const job = context.job;
      if (job === null || typeof job !== 'object' || Array.isArray(job)) return undefined;
      return { id: text(job.id), kind: text(job.type) };
    },
  };
}
