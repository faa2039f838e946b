//! A plugin that misbehaves on purpose, for the host's containment tests. Its manifest's
//! `mode` picks the fault; `"when-asked"` misbehaves only for users whose app profile has
//! `fault = "<mode>"`, and otherwise sets `appUser.touchedBy` to show it ran.

use importhook_sdk::{Error, Outcome, Request, Strategy, Value, export_strategy};
use serde::Deserialize;

/// The `[config]` table: only `mode`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// The fault; `ok` when unset.
    pub mode: Option<String>,
}

/// The strategy.
pub struct Fault;

export_strategy!(Fault);

impl Strategy for Fault {
    type Config = Config;

    fn transform(request: &Request, config: &Config) -> Result<Outcome, Error> {
        let configured = config.mode.as_deref().unwrap_or("ok");
        let asked = request.app_user().text("fault");
        let mode = match configured {
            "when-asked" => asked.as_deref().unwrap_or("ok"),
            other => other,
        };
        if mode == "echo" {
            return Ok(Outcome::new().set_app_user("seen", echo(request)));
        }
        if mode == "changed" {
            // What the strategies before this one changed, for the host's tests.
            return Ok(Outcome::new().set_app_user("changedBefore", request.user().changed()));
        }
        misbehave(mode)
    }

    fn validate_config(config: &Config) -> Result<(), Error> {
        match config.mode.as_deref() {
            None => Ok(()),
            Some(mode) if MODES.contains(&mode) => Ok(()),
            Some(mode) => Err(format!("mode {mode:?} is not one of {MODES:?}").into()),
        }
    }
}

/// Everything the strategy can read, as one line per item: the same request read by the host
/// (inside a plugin) and by the SDK's native helper must give the same text.
pub fn echo(request: &Request) -> String {
    let mut lines = vec![
        format!("event {:?}", request.event_id()),
        format!(
            "action {:?} link {:?}",
            request.action(),
            request.link_target()
        ),
        format!("matched {:?}", request.matched_user_id()),
        format!(
            "conflicts {:?} policy {:?}",
            request.conflicts(),
            request.policy()
        ),
        format!("matches {:?}", request.matches()),
        format!("application {:?}", request.application()),
        format!("job {:?}", request.job()),
    ];
    for (label, profile) in [("appUser", request.app_user()), ("user", request.user())] {
        for name in profile.names() {
            lines.push(format!("{label}.{name:?} = {:?}", profile.get(&name)));
        }
    }
    lines.join("\n")
}

/// The modes `[config] mode` accepts.
const MODES: [&str; 24] = [
    "ok",
    "when-asked",
    "changed",
    "echo",
    "loop",
    "memory",
    "sleep",
    "trap",
    "out-of-bounds",
    "stack-overflow",
    "panic",
    "error",
    "empty-link",
    "huge-value",
    "log",
    "counter",
    "bad-json",
    "empty-login",
    "null-login",
    "rename-and-link",
    "control-login",
    "bidi-login",
    "long-login",
    "not-email-login",
];

/// Recursion without end (each frame's result is used, so it cannot become a loop).
#[allow(unconditional_recursion)]
fn deep(n: u64) -> u64 {
    std::hint::black_box(deep(std::hint::black_box(n + 1))) + 1
}

fn misbehave(mode: &str) -> Result<Outcome, Error> {
    match mode {
        "loop" => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        "memory" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(std::hint::black_box(vec![1u8; 1 << 20]));
            }
        }
        // 64 MiB allocated in one call, at most 2 MiB of it alive at once, freed oldest first:
        // four times the manifest's 16 MiB cap if nothing freed were reused.
        "churn" => {
            let mut kept = vec![0u8; 1 << 20];
            for round in 1..=64u8 {
                let next = std::hint::black_box(vec![round; 1 << 20]);
                kept = next;
            }
            Ok(Outcome::new().set_app_user("churned", i64::from(kept[0])))
        }
        // Blocks in a WASI call (a monotonic-clock poll), where no epoch check can run.
        "sleep" => {
            std::thread::sleep(std::time::Duration::from_secs(30));
            Ok(Outcome::new())
        }
        "trap" => std::process::abort(),
        // A load far past the end of linear memory: caught by the compiled code's bounds check
        // (the host uses no guard pages).
        "out-of-bounds" => {
            let far = std::hint::black_box(usize::MAX - 7) as *const u64;
            // SAFETY: none: this is the fault under test; wasm turns it into a trap.
            #[allow(unsafe_code)]
            let value = unsafe { std::ptr::read_volatile(far) };
            Ok(Outcome::new().set_app_user("read", value.to_string()))
        }
        "stack-overflow" => Ok(Outcome::new().set_app_user("depth", deep(0).to_string())),
        "panic" => panic!("fault plugin panicked on purpose"),
        "error" => Err("fault plugin refused on purpose".into()),
        "empty-link" => Ok(Outcome::new().link_user("")),
        "huge-value" => Ok(Outcome::new().set_user("nickName", "x".repeat(100 * 1024))),
        "log" => {
            for line in 0..40 {
                importhook_sdk::log::warn(&format!(
                    "fault plugin line {line} {}",
                    "x".repeat(2000)
                ));
            }
            Ok(Outcome::new())
        }
        // Counts calls in a static: with a fresh instance per call it always reads 1.
        "counter" => {
            static CALLS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);
            let calls = CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            Ok(Outcome::new().set_app_user("callsSeen", calls))
        }
        "bad-json" => Ok(Outcome::new().set_user("nickName", Value::Json("{not json".to_owned()))),
        // States no plugin may leave: the host refuses them as invalid output.
        "empty-login" => Ok(Outcome::new().set_user("login", "  ")),
        "null-login" => Ok(Outcome::new().set_user("login", Value::Null)),
        "rename-and-link" => Ok(Outcome::new()
            .set_user("login", "someone.else@example.com")
            .link_user("00u1")),
        // Logins Okta would refuse: the host refuses them as invalid output too.
        "control-login" => {
            Ok(Outcome::new().set_user("login", "Joe\u{0}\u{7}\u{1b}[2J\r\nSmith@Example.com"))
        }
        "bidi-login" => Ok(Outcome::new().set_user("login", "joe\u{202e}moc.elpmaxe@example.com")),
        "long-login" => {
            Ok(Outcome::new().set_user("login", format!("{}@example.com", "j".repeat(10 * 1024))))
        }
        "not-email-login" => Ok(Outcome::new().set_user("login", "joe.smith")),
        _ => Ok(Outcome::new().set_app_user("touchedBy", "fault-plugin")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn harmless_modes_answer_natively() {
        assert!(misbehave("error").is_err());
        assert!(
            misbehave("ok")
                .expect("ok")
                .app_user_update("touchedBy")
                .is_some()
        );
        assert_eq!(
            misbehave("empty-link").expect("ok").decision(),
            Some(&importhook_sdk::Decision::LinkUser(String::new()))
        );
        // The SDK's native check fails first, as the host will.
        use importhook_sdk::login::LoginFormat::{Any, Email};
        for mode in ["control-login", "bidi-login", "long-login"] {
            assert!(
                misbehave(mode).expect("ok").check_login(Any).is_err(),
                "{mode}"
            );
        }
        let plain = misbehave("not-email-login").expect("ok");
        assert!(plain.check_login(Email).is_err());
        assert_eq!(plain.check_login(Any), Ok(()));
    }
}
