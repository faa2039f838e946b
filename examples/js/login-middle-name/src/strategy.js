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

import { Action, Outcome, StrategyError, config, login } from 'importhook-sdk';

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
  // The `[config]` table: a key not listed, or a value of another kind, refuses the plugin.
  config: {
    middle_name_attribute: config.string('middleName'),
    login_attribute: config.string('login'),
    when_missing: config.oneOf(['leave', 'error'], 'leave'),
  },

  transform(request, settings) {
    const loginAttribute = settings.login_attribute;
    // Login rewrites are for users Okta will create (a strategy before this one may have
    // decided to link instead).
    if (request.action() !== Action.CREATE_USER || !request.hasConflict(loginAttribute)) {
      return new Outcome();
    }
    const current = request.user().text(loginAttribute);
    if (current === undefined || login.isBlank(current)) {
      return new Outcome().setNote('no login to rewrite');
    }
    const name = request.appUser().text(settings.middle_name_attribute);
    const middle = name === undefined ? '' : login.slug(name);
    if (middle === '') {
      if (settings.when_missing === 'error') {
        throw new StrategyError('no middle name to resolve the login conflict');
      }
      return new Outcome().setNote('no middle name; login left unchanged');
    }
    // Surrounding whitespace is not part of a login (Okta and the host refuse one with it).
    const rewritten = infix(current.trim(), middle);
    return rewritten === undefined
      ? new Outcome().setNote('login already holds the middle name')
      : new Outcome().setUser(loginAttribute, rewritten).setNote('middle name infixed');
  },
};
