//! Okta's rules for a user's `login`: when two logins are the same login to Okta
//! ([`equivalent`]), and which logins Okta accepts in a profile at all ([`check`]).
//!
//! Sources (Okta management OpenAPI spec, `UserProfile.login`, and its "Login pattern
//! validation" section):
//! - "Logins are not considered unique if they differ only in case and/or diacritical marks.
//!   If one of your users has a login of `Isaac.Brock@example.com`, there cannot be another
//!   user whose login is `isaac.brock@example.com`, nor `isáàc.bröck@example.com`."
//! - `login` has `minLength: 5` and `maxLength: 100`; with no login pattern set (the default)
//!   "the username is required to be formatted as an email address as defined by RFC 6531
//!   Section 3.3"; the pattern `".+"` allows any non-empty value and drops the minimum of five.
//!
//! The conformance vectors at the repository root (`conformance/login-equivalence.json`,
//! `conformance/login-acceptance.json`) pin both rules for the host and every SDK.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Most characters (Unicode code points, as JSON Schema's `maxLength` counts) in a login.
pub const MAX_LOGIN_CHARS: usize = 100;
/// Fewest characters in a login when logins must be email addresses.
pub const MIN_EMAIL_LOGIN_CHARS: usize = 5;

/// The key two logins share exactly when Okta holds them to be the same login: canonical
/// decomposition (NFD), combining marks (General_Category M) removed, each character
/// lowercased, recomposed (NFC). `Isaac.Brock@example.com` and `isáàc.bröck@example.com` both
/// give `isaac.brock@example.com`. Letters that do not decompose (`ß`, `ø`, `ł`) stay as they
/// are: Okta's docs name case and diacritical marks only.
pub fn equivalent(login: &str) -> String {
    // Most logins are ASCII: nothing to decompose.
    if login.is_ascii() {
        return login.to_ascii_lowercase();
    }
    login
        .nfd()
        .filter(|c| !is_combining_mark(*c))
        // Per character, so a capital sigma always lowercases the same way whatever follows.
        .flat_map(char::to_lowercase)
        .nfc()
        .collect()
}

/// Whether Okta requires logins to be email addresses (its default) or accepts any non-empty
/// value (the org set the login pattern `".+"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LoginFormat {
    /// `local@domain`, 5 to 100 characters (no login pattern set: Okta's default).
    #[default]
    Email,
    /// Any non-empty value up to 100 characters.
    Any,
}

impl LoginFormat {
    /// Reads `email` or `any`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "email" => Some(Self::Email),
            "any" => Some(Self::Any),
            _ => None,
        }
    }

    /// `email` or `any`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Any => "any",
        }
    }
}

/// Why Okta would refuse a login. Names the problem, never the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginProblem {
    /// Empty or whitespace only.
    Empty,
    /// A control character (General_Category Cc: NUL, BEL, ESC, CR, LF, DEL, C1…).
    ControlCharacter,
    /// A bidirectional control (Bidi_Control: U+061C, U+200E/F, U+202A–E, U+2066–9), which
    /// makes a login display as something it is not.
    BidiControl,
    /// More than [`MAX_LOGIN_CHARS`] characters.
    TooLong,
    /// Fewer than [`MIN_EMAIL_LOGIN_CHARS`] characters where logins are email addresses.
    TooShort,
    /// Not of the form `local@domain` where logins are email addresses.
    NotEmail,
}

impl LoginProblem {
    /// The problem's name in the conformance vectors.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::ControlCharacter => "control_character",
            Self::BidiControl => "bidi_control",
            Self::TooLong => "too_long",
            Self::TooShort => "too_short",
            Self::NotEmail => "not_email",
        }
    }
}

impl std::fmt::Display for LoginProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Empty => "login is empty or whitespace only",
            Self::ControlCharacter => "login contains a control character",
            Self::BidiControl => "login contains a bidirectional control character",
            Self::TooLong => "login is longer than Okta's 100 characters",
            Self::TooShort => "login is shorter than Okta's 5 characters for email logins",
            Self::NotEmail => "login is not an email address (local@domain), as Okta requires unless the org's login pattern says otherwise",
        })
    }
}

impl std::error::Error for LoginProblem {}

/// Whether `c` is a bidirectional control (Unicode property Bidi_Control).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// Whether Okta accepts `login` in a user profile under `format`; the first problem found (in
/// the order of [`LoginProblem`]'s variants) otherwise.
pub fn check(login: &str, format: LoginFormat) -> Result<(), LoginProblem> {
    if login.trim().is_empty() {
        return Err(LoginProblem::Empty);
    }
    if login.chars().any(char::is_control) {
        return Err(LoginProblem::ControlCharacter);
    }
    if login.chars().any(is_bidi_control) {
        return Err(LoginProblem::BidiControl);
    }
    let chars = login.chars().count();
    if chars > MAX_LOGIN_CHARS {
        return Err(LoginProblem::TooLong);
    }
    if format == LoginFormat::Email {
        if chars < MIN_EMAIL_LOGIN_CHARS {
            return Err(LoginProblem::TooShort);
        }
        if !is_email(login) {
            return Err(LoginProblem::NotEmail);
        }
    }
    Ok(())
}

/// RFC 6531 §3.3's `Mailbox`: `Local-part "@" ( Domain / address-literal )`, UTF-8 allowed.
fn is_email(login: &str) -> bool {
    let Some((local, domain)) = login.rsplit_once('@') else {
        return false;
    };
    is_local_part(local) && (is_domain(domain) || is_address_literal(domain))
}

/// RFC 5321 `atext` widened by RFC 6531 to any non-ASCII character.
fn is_atext(c: char) -> bool {
    c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~".contains(c) || !c.is_ascii()
}

/// `Dot-string` (atoms joined by single dots) or `Quoted-string`.
fn is_local_part(local: &str) -> bool {
    if let Some(inner) = local
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    {
        return is_quoted_content(inner);
    }
    !local.is_empty()
        && local
            .split('.')
            .all(|atom| !atom.is_empty() && atom.chars().all(is_atext))
}

/// `qtextSMTP` (printable ASCII but `"` and `\`, or non-ASCII) and `quoted-pairSMTP`.
fn is_quoted_content(inner: &str) -> bool {
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(' '..='~') => {}
                _ => return false,
            },
            '"' => return false,
            ' '..='~' => {}
            c if !c.is_ascii() => {}
            _ => return false,
        }
    }
    true
}

/// `sub-domain *("." sub-domain)`: letters and digits (any script, for U-labels) and inner
/// hyphens.
fn is_domain(domain: &str) -> bool {
    !domain.is_empty()
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// `[...]`: an IPv4 or tagged address literal, printable ASCII without brackets or `\`.
fn is_address_literal(domain: &str) -> bool {
    domain
        .strip_prefix('[')
        .and_then(|rest| rest.strip_suffix(']'))
        .is_some_and(|inner| {
            !inner.is_empty()
                && inner
                    .chars()
                    .all(|c| matches!(c, '!'..='~') && !matches!(c, '[' | ']' | '\\'))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn okta_s_own_examples_are_one_login() {
        let key = equivalent("Isaac.Brock@example.com");
        assert_eq!(key, "isaac.brock@example.com");
        assert_eq!(equivalent("isaac.brock@example.com"), key);
        assert_eq!(equivalent("isáàc.bröck@example.com"), key);
        assert_ne!(equivalent("isaac.brock2@example.com"), key);
    }

    #[test]
    fn the_probe_login_is_refused_for_its_control_characters() {
        assert_eq!(
            check(
                "Joe\u{0}\u{7}\u{1b}[2J\r\nSmith@Example.com",
                LoginFormat::Any
            ),
            Err(LoginProblem::ControlCharacter)
        );
        let long = "a".repeat(10 * 1024);
        assert_eq!(check(&long, LoginFormat::Any), Err(LoginProblem::TooLong));
        assert_eq!(check("a@b.c", LoginFormat::Email), Ok(()));
        assert_eq!(LoginFormat::parse("any"), Some(LoginFormat::Any));
        assert_eq!(LoginFormat::parse("Email"), None);
    }
}
