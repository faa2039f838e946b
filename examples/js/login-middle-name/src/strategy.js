// login-middle-name in JavaScript: the port of plugins/login-middle-name (Rust), with the
// same answers. When Okta will create a user whose login is in conflict, infix the middle
// name from the app user profile into the login's local part:
// `george.smith@example.com` → `george.alexander.smith@example.com`.
//
// The middle name goes in as the login is normalised: lowercase, without diacritics, words
// joined by dots (login.slug). A user Okta will link keeps its login, and no empty login is
// ever proposed.
//
// Configuration (`[config]` of the manifest):
// - middle_name_attribute (default "middleName"): app user attribute holding the middle name;
// - login_attribute (default "login"): the conflicting Okta user attribute to rewrite;
// - when_missing (default "leave"): without a middle name, "leave" the login as it is (Okta
//   then reports the conflict) or "error" (the host applies the plugin's on_error).

import { Action, Outcome, StrategyError, login } from 'importhook-sdk';

const KEYS = ['middle_name_attribute', 'login_attribute', 'when_missing'];

/** Puts `middle` after the first dot-separated part of the local part; undefined when it is
 *  already there (a retried request must not infix twice). */
export function infix(userLogin, middle) {
  const [local, domain] = login.split(userLogin);
  if (local.split('.').some((part) => part.toLowerCase() === middle.toLowerCase())) return undefined;
  const dot = local.indexOf('.');
  const newLocal = dot < 0 ? `${local}.${middle}` : `${local.slice(0, dot)}.${middle}.${local.slice(dot + 1)}`;
  return login.join(newLocal, domain);
}

export default {
  transform(request, config) {
    const loginAttribute = config.text('login_attribute') ?? 'login';
    // Login rewrites are for users Okta will create (a strategy before this one may have
    // decided to link instead).
    if (request.action() !== Action.CREATE_USER || !request.hasConflict(loginAttribute)) {
      return new Outcome();
    }
    const current = request.user().text(loginAttribute);
    if (current === undefined || login.isBlank(current)) {
      return new Outcome().note('no login to rewrite');
    }
    const middleAttribute = config.text('middle_name_attribute') ?? 'middleName';
    const name = request.appUser().text(middleAttribute);
    const middle = name === undefined ? '' : login.slug(name);
    if (middle === '') {
      if (config.text('when_missing') === 'error') {
        throw new StrategyError('no middle name to resolve the login conflict');
      }
      return new Outcome().note('no middle name; login left unchanged');
    }
    // Surrounding whitespace is not part of a login (Okta and the host refuse one with it).
    const rewritten = infix(current.trim(), middle);
    return rewritten === undefined
      ? new Outcome().note('login already holds the middle name')
      : new Outcome().setUser(loginAttribute, rewritten).note('middle name infixed');
  },

  validateConfig(config) {
    for (const key of config.keys()) {
      if (!KEYS.includes(key)) {
        throw new StrategyError(`unknown key ${JSON.stringify(key)} (known: ${KEYS.join(', ')})`);
      }
      if (typeof config.get(key) !== 'string') throw new StrategyError(`${key} must be a string`);
    }
    const whenMissing = config.text('when_missing');
    if (whenMissing !== undefined && whenMissing !== 'leave' && whenMissing !== 'error') {
      throw new StrategyError(`when_missing must be "leave" or "error", not ${JSON.stringify(whenMissing)}`);
    }
  },
};
