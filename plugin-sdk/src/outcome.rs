//! What a strategy returns: attribute updates, a decision and a note, built fluently.

use crate::value::{Attribute, Decision, Value};

/// The changes a strategy asks for. An empty outcome changes nothing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    app_user: Vec<Attribute>,
    user: Vec<Attribute>,
    decision: Option<Decision>,
    note: Option<String>,
}

fn upsert(list: &mut Vec<Attribute>, name: &str, value: Value) {
    match list.iter_mut().find(|a| a.name == name) {
        Some(existing) => existing.value = value,
        None => list.push(Attribute {
            name: name.to_owned(),
            value,
        }),
    }
}

impl Outcome {
    /// An outcome that changes nothing.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets an attribute of the app user profile (`com.okta.appUser.profile.update`).
    pub fn set_app_user(mut self, name: &str, value: impl Into<Value>) -> Self {
        upsert(&mut self.app_user, name, value.into());
        self
    }

    /// Sets an attribute of the Okta user profile (`com.okta.user.profile.update`).
    pub fn set_user(mut self, name: &str, value: impl Into<Value>) -> Self {
        upsert(&mut self.user, name, value.into());
        self
    }

    /// Decides to create a new Okta user.
    pub fn create_user(mut self) -> Self {
        self.decision = Some(Decision::CreateUser);
        self
    }

    /// Decides to link the imported user to the existing Okta user `user_id`.
    pub fn link_user(mut self, user_id: impl Into<String>) -> Self {
        self.decision = Some(Decision::LinkUser(user_id.into()));
        self
    }

    /// Adds a short note to the host's per-plugin report. Never put personal data in it.
    pub fn set_note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }

    /// The app user update for `name`, if any.
    pub fn app_user_update(&self, name: &str) -> Option<&Value> {
        self.app_user
            .iter()
            .find(|a| a.name == name)
            .map(|a| &a.value)
    }

    /// The Okta user update for `name`, if any.
    pub fn user_update(&self, name: &str) -> Option<&Value> {
        self.user.iter().find(|a| a.name == name).map(|a| &a.value)
    }

    /// All app user updates.
    pub fn app_user_updates(&self) -> &[Attribute] {
        &self.app_user
    }

    /// All Okta user updates.
    pub fn user_updates(&self) -> &[Attribute] {
        &self.user
    }

    /// The decision, if any.
    pub fn decision(&self) -> Option<&Decision> {
        self.decision.as_ref()
    }

    /// The note, if any.
    pub fn note(&self) -> Option<&str> {
        self.note.as_deref()
    }

    /// True when the outcome asks for nothing.
    pub fn is_empty(&self) -> bool {
        self.app_user.is_empty() && self.user.is_empty() && self.decision.is_none()
    }

    /// Whether the host would pass the Okta user `login` this outcome sets, under the org's
    /// login format (`login_format` in the host's config: [`LoginFormat::Email`] unless the
    /// org's login pattern allows any value). The host refuses an outcome that fails this as
    /// `invalid_output` (the plugin's `on_error` applies), because Okta would refuse the
    /// user: call it in unit tests so they fail first. An outcome without a login update
    /// passes.
    ///
    /// [`LoginFormat::Email`]: crate::login::LoginFormat::Email
    pub fn check_login(&self, format: crate::login::LoginFormat) -> Result<(), String> {
        match self.user_update("login") {
            None => Ok(()),
            Some(Value::Text(login)) => {
                crate::login::check(login, format).map_err(|problem| problem.to_string())
            }
            Some(_) => Err("the user profile login must be text".to_owned()),
        }
    }

    /// The parts, for the host glue.
    #[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
    pub(crate) fn into_parts(
        self,
    ) -> (
        Vec<Attribute>,
        Vec<Attribute>,
        Option<Decision>,
        Option<String>,
    ) {
        (self.app_user, self.user, self.decision, self.note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_replaces_repeated_names_and_keeps_order() {
        let outcome = Outcome::new()
            .set_user("login", "a")
            .set_user("email", "b")
            .set_user("login", "c")
            .set_app_user("n", 3i64)
            .link_user("00u1")
            .set_note("linked");
        assert_eq!(outcome.user_updates().len(), 2);
        assert_eq!(outcome.user_update("login"), Some(&Value::Text("c".into())));
        assert_eq!(outcome.app_user_update("n"), Some(&Value::Integer(3)));
        assert_eq!(outcome.decision(), Some(&Decision::LinkUser("00u1".into())));
        assert_eq!(outcome.note(), Some("linked"));
        assert!(!outcome.is_empty());
        assert!(Outcome::new().set_note("x").is_empty());
    }

    #[test]
    fn a_login_okta_would_refuse_fails_the_check_the_host_applies() {
        use crate::login::LoginFormat::{Any, Email};
        assert_eq!(Outcome::new().check_login(Email), Ok(()));
        let good = Outcome::new().set_user("login", "ann.lee@example.com");
        assert_eq!(good.check_login(Email), Ok(()));
        let short = Outcome::new().set_user("login", "ann.lee");
        assert!(short.check_login(Email).is_err());
        assert_eq!(short.check_login(Any), Ok(()));
        let probe = Outcome::new().set_user("login", "Joe\u{7}\r\nSmith@Example.com");
        assert!(probe.check_login(Any).is_err());
        let long = Outcome::new().set_user("login", format!("{}@example.com", "a".repeat(89)));
        assert!(long.check_login(Any).unwrap_err().contains("100"));
        let number = Outcome::new().set_user("login", 7i64);
        assert!(number.check_login(Any).is_err());
    }
}
