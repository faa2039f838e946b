//! Okta directory lookups against a fake org over real loopback HTTPS: API token and service
//! app (private_key_jwt + DPoP with the nonce round), 200/404/429/5xx/slow answers, the
//! rate-limit pause, caching, coalescing, and logs that never carry the token or a login; and
//! through the real server, the example strategies granted `directory` asking that org.

mod common;

use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::BIN;
use common::okta_org::{API_TOKEN, CLIENT_ID, FakeOrg};
use importhook::auth::Secret;
use importhook::directory::{
    Config, Credentials, Directory, DpopMode, Lookup, Presence, Unavailable, UserSummary,
};
use importhook::outbound::{ExtraCa, Outbound};

fn outbound(org: &FakeOrg) -> Outbound {
    Outbound::new(&[ExtraCa {
        key: "okta_ca_file",
        path: org.ca_file(),
    }])
    .expect("outbound client")
}

fn ssws(org: &FakeOrg) -> Directory {
    let config = Config::new(&org.url, Credentials::ApiToken(Secret::new(API_TOKEN)));
    Directory::okta(config, outbound(org)).expect("directory")
}

fn service_app(org: &FakeOrg) -> Directory {
    service_app_with(org, |_| {})
}

fn service_app_with(org: &FakeOrg, change: impl FnOnce(&mut Config)) -> Directory {
    let mut config = Config::new(
        &org.url,
        Credentials::ServiceApp {
            client_id: CLIENT_ID.to_owned(),
            key_file: org.app_key_file(),
            key_id: Some("key-1".to_owned()),
            scope: "okta.users.read".to_owned(),
        },
    );
    change(&mut config);
    Directory::okta(config, outbound(org)).expect("directory")
}

fn ssws_with(org: &FakeOrg, change: impl FnOnce(&mut Config)) -> Directory {
    let mut config = Config::new(&org.url, Credentials::ApiToken(Secret::new(API_TOKEN)));
    change(&mut config);
    Directory::okta(config, outbound(org)).expect("directory")
}

fn soon() -> Instant {
    Instant::now() + Duration::from_secs(2)
}

#[tokio::test]
async fn an_api_token_finds_taken_and_free_logins() {
    let org = FakeOrg::start().await;
    org.add_user("Ann.Lee@example.com", "00u1", "DEPROVISIONED");
    let directory = ssws(&org);
    assert_eq!(
        directory.user_by_login("ann.lee@example.com", soon()).await,
        Lookup::Found(UserSummary {
            id: "00u1".into(),
            status: "DEPROVISIONED".into()
        }),
        "a deactivated user holds the login, matched case-insensitively"
    );
    assert_eq!(
        directory.login_exists("bo@example.com", soon()).await,
        Presence::Free
    );
    // A `/` cannot travel in one path segment; an empty login would list users.
    let calls = org.user_calls();
    assert_eq!(
        directory.user_by_login("a/b@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::UnsupportedLogin)
    );
    assert_eq!(directory.login_exists("", soon()).await, Presence::Unknown);
    assert_eq!(org.user_calls(), calls, "neither reached Okta");
}

#[tokio::test]
async fn a_login_equivalent_to_one_okta_holds_is_taken_and_shares_its_cache_entry() {
    let org = FakeOrg::start().await;
    // Okta: logins differing only in case or diacritical marks are one login; the org answers
    // a lookup of any of them with the user, whose login is spelled as the user has it.
    org.add_user("josé.álvarez@example.com", "00u7", "ACTIVE");
    let directory = ssws(&org);
    let found = Lookup::Found(UserSummary {
        id: "00u7".into(),
        status: "ACTIVE".into(),
    });
    assert_eq!(
        directory
            .user_by_login("jose.alvarez@example.com", soon())
            .await,
        found,
        "a 200 for an equivalent login is the holder, not an unsupported answer"
    );
    assert_eq!(org.user_calls(), 1);
    for other in [
        "JOSE.ALVAREZ@example.com",
        "Jose\u{301}.A\u{301}lvarez@example.com",
    ] {
        assert_eq!(
            directory.login_exists(other, soon()).await,
            Presence::Taken,
            "{other}"
        );
    }
    assert_eq!(
        org.user_calls(),
        1,
        "equivalent logins share one cache entry"
    );
    assert_eq!(
        directory
            .login_exists("josé.álvarez2@example.com", soon())
            .await,
        Presence::Free
    );
}

#[tokio::test]
async fn a_login_with_a_question_mark_is_never_asked_by_path() {
    let org = FakeOrg::start().await;
    org.add_user("who?@example.com", "00u8", "ACTIVE");
    let directory = ssws(&org);
    assert_eq!(
        directory.user_by_login("who?@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::UnsupportedLogin),
        "Okta answers such a path 404: it must not read as free"
    );
    assert_eq!(org.user_calls(), 0);
}

#[tokio::test]
async fn a_wrong_api_token_answers_unknown() {
    let org = FakeOrg::start().await;
    let config = Config::new(&org.url, Credentials::ApiToken(Secret::new("wrong")));
    let directory = Directory::okta(config, outbound(&org)).expect("directory");
    assert_eq!(
        directory.user_by_login("a@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::Failed)
    );
}

#[tokio::test]
async fn a_service_app_answers_the_nonce_challenge_and_reuses_its_token() {
    let org = FakeOrg::start().await;
    org.add_user("c@example.com", "00u3", "ACTIVE");
    let directory = service_app(&org);
    assert_eq!(
        directory.login_exists("c@example.com", soon()).await,
        Presence::Taken
    );
    assert_eq!(
        directory.login_exists("d@example.com", soon()).await,
        Presence::Free
    );
    assert_eq!(org.state.nonce_challenges.load(Ordering::SeqCst), 1);
    assert_eq!(
        org.state.token_calls.load(Ordering::SeqCst),
        3,
        "okta_dpop = auto: one request without DPoP (refused: the app requires it), one \
         challenged for a nonce, one with the nonce, then the token is reused"
    );
    assert_eq!(
        directory.check_credentials().await.expect("token"),
        "service app (DPoP-bound token)"
    );
}

#[tokio::test]
async fn a_service_app_with_the_wrong_client_id_says_why() {
    let org = FakeOrg::start().await;
    let config = Config::new(
        &org.url,
        Credentials::ServiceApp {
            client_id: "0oaother".to_owned(),
            key_file: org.app_key_file(),
            key_id: None,
            scope: "okta.users.read".to_owned(),
        },
    );
    let directory = Directory::okta(config, outbound(&org)).expect("directory");
    let err = format!(
        "{:#}",
        directory.check_credentials().await.expect_err("refused")
    );
    assert!(err.contains("invalid_client"), "{err}");
    assert_eq!(
        directory.login_exists("c@example.com", soon()).await,
        Presence::Unknown
    );
}

#[tokio::test]
async fn errors_and_slow_answers_are_unknown_within_the_deadline() {
    let org = FakeOrg::start().await;
    let directory = ssws(&org);
    assert_eq!(
        directory.user_by_login("error-1@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::Failed)
    );
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    assert_eq!(
        directory
            .user_by_login("slow-1@example.com", deadline)
            .await,
        Lookup::Unavailable(Unavailable::TimedOut)
    );
    let took = started.elapsed();
    assert!(took < Duration::from_millis(450), "answered after {took:?}");
    // The directory's own 500 ms cap applies even to a generous plugin deadline.
    let started = Instant::now();
    assert_eq!(
        directory
            .login_exists("slow-2@example.com", started + Duration::from_secs(10))
            .await,
        Presence::Unknown
    );
    assert!(started.elapsed() < Duration::from_millis(700));
}

#[tokio::test]
async fn a_spent_rate_limit_stops_calls_until_its_reset() {
    let org = FakeOrg::start().await;
    let directory = ssws(&org);
    assert_eq!(
        directory
            .user_by_login("limited-1@example.com", soon())
            .await,
        Lookup::Unavailable(Unavailable::RateLimited)
    );
    let calls = org.user_calls();
    assert_eq!(
        directory.user_by_login("other@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::RateLimited)
    );
    assert_eq!(org.user_calls(), calls, "no call until the reset");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    assert_eq!(
        directory.login_exists("other@example.com", soon()).await,
        Presence::Free
    );
    assert_eq!(org.user_calls(), calls + 1);
    // `X-Rate-Limit-Remaining: 0` on a good answer: that answer counts, the next waits.
    assert_eq!(
        directory.login_exists("last-1@example.com", soon()).await,
        Presence::Free
    );
    assert_eq!(
        directory.login_exists("x@example.com", soon()).await,
        Presence::Unknown
    );
    assert_eq!(org.user_calls(), calls + 2);
}

#[tokio::test]
async fn answers_are_cached_and_concurrent_lookups_share_one_call() {
    let org = FakeOrg::start().await;
    org.add_user("e@example.com", "00u5", "ACTIVE");
    let directory = ssws(&org);
    assert_eq!(
        directory.login_exists("e@example.com", soon()).await,
        Presence::Taken
    );
    assert_eq!(
        directory.login_exists("E@Example.com", soon()).await,
        Presence::Taken
    );
    assert_eq!(org.user_calls(), 1, "the second answer came from the cache");
    let lookups = (0..16).map(|_| {
        let directory = directory.clone();
        tokio::spawn(async move { directory.login_exists("f@example.com", soon()).await })
    });
    for lookup in lookups.collect::<Vec<_>>() {
        assert_eq!(lookup.await.expect("task"), Presence::Free);
    }
    assert_eq!(org.user_calls(), 2, "sixteen lookups, one call");
    let stats = directory.stats();
    assert_eq!(stats.calls, 2);
    assert_eq!(stats.cache_hits + stats.coalesced, 16, "{stats:?}");
}

#[tokio::test]
async fn lookups_in_flight_are_capped_and_a_wait_for_a_place_ends_at_the_deadline() {
    let org = FakeOrg::start().await;
    let directory = ssws_with(&org, |c| {
        c.max_concurrent = 2;
        c.timeout = Duration::from_secs(2);
    });
    let lookups = (0..6).map(|n| {
        let directory = directory.clone();
        tokio::spawn(async move {
            directory
                .login_exists(&format!("held-{n}@example.com"), soon())
                .await
        })
    });
    for lookup in lookups.collect::<Vec<_>>() {
        assert_eq!(lookup.await.expect("task"), Presence::Free);
    }
    assert_eq!(org.user_calls(), 6);
    assert_eq!(
        org.state.peak_in_flight.load(Ordering::SeqCst),
        2,
        "never more than okta_max_concurrent calls at the org"
    );

    let single = ssws_with(&org, |c| c.max_concurrent = 1);
    let started = Instant::now();
    let deadline = started + Duration::from_millis(300);
    let (first, second) = tokio::join!(
        single.login_exists("held-a@example.com", deadline),
        single.user_by_login("held-b@example.com", deadline),
    );
    assert_eq!(first, Presence::Free);
    assert_eq!(second, Lookup::Unavailable(Unavailable::TimedOut));
    let took = started.elapsed();
    assert!(took < Duration::from_millis(450), "waited {took:?}");
}

#[tokio::test]
async fn a_concurrency_429_pauses_about_a_second_not_until_its_reset() {
    let org = FakeOrg::start().await;
    // The reset of a concurrency 429 is only an estimate: here 30 s away.
    org.state.reset_in_s.store(30, Ordering::SeqCst);
    let directory = ssws(&org);
    assert_eq!(
        directory.user_by_login("busy-1@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::RateLimited)
    );
    let calls = org.user_calls();
    assert_eq!(
        directory.login_exists("g@example.com", soon()).await,
        Presence::Unknown,
        "paused"
    );
    assert_eq!(org.user_calls(), calls);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(
        directory.login_exists("g@example.com", soon()).await,
        Presence::Free,
        "the pause ended after about a second, not at the 30 s reset"
    );
    assert_eq!(org.user_calls(), calls + 1);
}

#[tokio::test]
async fn the_rate_limit_headroom_is_left_to_the_orgs_other_clients() {
    let org = FakeOrg::start().await;
    // 20 of 100 left: what the default 20 % headroom keeps for others.
    org.state.remaining.store(20, Ordering::SeqCst);
    let directory = ssws(&org);
    assert_eq!(
        directory.login_exists("h@example.com", soon()).await,
        Presence::Free,
        "the answer that reports the headroom reached still counts"
    );
    assert_eq!(
        directory.user_by_login("i@example.com", soon()).await,
        Lookup::Unavailable(Unavailable::RateLimited)
    );
    assert_eq!(org.user_calls(), 1, "no call into the headroom");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    org.state.remaining.store(50, Ordering::SeqCst);
    assert_eq!(
        directory.login_exists("i@example.com", soon()).await,
        Presence::Free
    );

    // With no headroom asked, 20 left is still fine.
    let org = FakeOrg::start().await;
    org.state.remaining.store(20, Ordering::SeqCst);
    let greedy = ssws_with(&org, |c| c.rate_headroom_percent = 0);
    for login in ["j@example.com", "k@example.com"] {
        assert_eq!(greedy.login_exists(login, soon()).await, Presence::Free);
    }
    assert_eq!(org.user_calls(), 2);
}

#[tokio::test]
async fn the_token_is_fetched_in_the_background_and_a_lookup_never_waits_past_its_deadline() {
    let org = FakeOrg::start().await;
    org.add_user("l@example.com", "00u7", "ACTIVE");
    org.state.token_delay_ms.store(800, Ordering::SeqCst);
    let directory = service_app_with(&org, |c| c.dpop = DpopMode::On);
    let started = Instant::now();
    assert_eq!(
        directory
            .user_by_login("l@example.com", started + Duration::from_millis(300))
            .await,
        Lookup::Unavailable(Unavailable::TimedOut)
    );
    let took = started.elapsed();
    assert!(took < Duration::from_millis(450), "waited {took:?}");
    // The fetch the lookup started was not cut with it: the token arrives meanwhile.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let calls = org.token_calls();
    assert_eq!(calls, 2, "challenged, then with the nonce");
    let started = Instant::now();
    assert_eq!(
        directory
            .login_exists("l@example.com", started + Duration::from_millis(300))
            .await,
        Presence::Taken
    );
    assert_eq!(org.token_calls(), calls, "the token kept by the task");
}

#[tokio::test]
async fn the_token_is_refreshed_before_it_expires() {
    let org = FakeOrg::start().await;
    // A 61 s token is refreshed 60 s before its expiry: after one second.
    org.state.token_lifetime_s.store(61, Ordering::SeqCst);
    let directory = service_app_with(&org, |c| c.dpop = DpopMode::On);
    assert_eq!(
        directory.login_exists("m@example.com", soon()).await,
        Presence::Free
    );
    let fetched = org.token_calls();
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert!(
        org.token_calls() > fetched,
        "refreshed without a lookup asking"
    );
    assert_eq!(
        directory.login_exists("n@example.com", soon()).await,
        Presence::Free
    );
}

#[tokio::test]
async fn a_429_from_the_token_endpoint_is_waited_out_not_hammered() {
    let org = FakeOrg::start().await;
    org.state.token_limited.store(1, Ordering::SeqCst);
    // Its reset 3 s away: longer than the 1 s backoff after an ordinary failure.
    org.state.reset_in_s.store(3, Ordering::SeqCst);
    let directory = service_app_with(&org, |c| c.dpop = DpopMode::On);
    let started = Instant::now();
    for n in 0..5 {
        let asked = Instant::now();
        assert_eq!(
            directory
                .user_by_login(&format!("o{n}@example.com"), soon())
                .await,
            Lookup::Unavailable(Unavailable::Failed)
        );
        assert!(
            asked.elapsed() < Duration::from_millis(300),
            "a known token failure answers at once"
        );
    }
    tokio::time::sleep_until((started + Duration::from_millis(1600)).into()).await;
    assert_eq!(org.token_calls(), 1, "no fetch before the 429's reset");
    assert_eq!(org.user_calls(), 0);
    tokio::time::sleep_until((started + Duration::from_millis(4200)).into()).await;
    assert_eq!(
        directory.login_exists("p@example.com", soon()).await,
        Presence::Free
    );
}

#[tokio::test]
async fn dpop_is_used_when_the_app_requires_it_and_only_then() {
    // An app without "Require DPoP": auto asks once, without a proof, and gets a bearer token.
    let org = FakeOrg::start().await;
    org.state.dpop_required.store(false, Ordering::SeqCst);
    org.add_user("q@example.com", "00u8", "ACTIVE");
    let auto = service_app(&org);
    assert_eq!(
        auto.login_exists("q@example.com", soon()).await,
        Presence::Taken
    );
    assert_eq!(org.token_calls(), 1);
    assert_eq!(org.state.nonce_challenges.load(Ordering::SeqCst), 0);
    assert_eq!(
        auto.check_credentials().await.expect("token"),
        "service app (bearer token)"
    );
    let off = service_app_with(&org, |c| c.dpop = DpopMode::Off);
    assert_eq!(
        off.login_exists("q@example.com", soon()).await,
        Presence::Taken
    );

    // An app requiring DPoP: off says why; on goes straight to the nonce round.
    let org = FakeOrg::start().await;
    let off = service_app_with(&org, |c| c.dpop = DpopMode::Off);
    let err = format!("{:#}", off.check_credentials().await.expect_err("refused"));
    assert!(err.contains("invalid_dpop_proof"), "{err}");
    let on = service_app_with(&org, |c| c.dpop = DpopMode::On);
    let before = org.token_calls();
    assert_eq!(
        on.check_credentials().await.expect("token"),
        "service app (DPoP-bound token)"
    );
    assert_eq!(
        org.token_calls(),
        before + 2,
        "challenged, then with the nonce"
    );
}

/// A writer the test reads back.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log").extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_carry_neither_the_token_nor_a_login() {
    let org = FakeOrg::start().await;
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let directory = ssws(&org);
    let app = service_app(&org);
    for login in [
        "error-9@example.com",
        "limited-9@example.com",
        "g@example.com",
    ] {
        let _ = directory.login_exists(login, soon()).await;
    }
    let _ = app.login_exists("h@example.com", soon()).await;
    let bad = Directory::okta(
        Config::new(
            &org.url,
            Credentials::ApiToken(Secret::new("bad-token-xyz")),
        ),
        outbound(&org),
    )
    .expect("directory");
    let _ = bad.login_exists("i@example.com", soon()).await;
    let logs = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
    assert!(logs.contains("Okta"), "the failures were logged: {logs}");
    for secret in [
        API_TOKEN,
        "bad-token-xyz",
        "fake-access-token",
        "example.com",
    ] {
        assert!(!logs.contains(secret), "{secret} in logs: {logs}");
    }
}

/// A server layer asking `org` with its API token (from a file: the environment is the whole
/// test binary's).
fn served_by(org: &FakeOrg) -> importhook::config::ConfigLayer {
    let token_file = org.dir.path().join("api-token");
    std::fs::write(&token_file, format!("{API_TOKEN}\n")).expect("token file");
    importhook::config::ConfigLayer {
        okta_org_url: Some(org.url.clone()),
        okta_ca_file: Some(org.ca_file()),
        okta_api_token_file: Some(token_file),
        ..Default::default()
    }
}

/// A user Okta will create whose login is in conflict, with a middle name.
fn conflict(event: &str, login: &str, middle: &str) -> serde_json::Value {
    serde_json::json!({
        "eventId": event,
        "eventType": "com.okta.import.transform",
        "data": {
            "context": {"conflicts": ["login"]},
            "action": {"result": "CREATE_USER"},
            "appUser": {"profile": {"middleName": middle}},
            "user": {"profile": {"login": login}}
        }
    })
}

/// The login the answer sets, if it sets one.
fn new_login(reply: &common::Reply) -> Option<String> {
    if reply.status == http::StatusCode::NO_CONTENT {
        return None;
    }
    reply.json()["commands"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == "com.okta.user.profile.update")
        .and_then(|c| c["value"]["login"].as_str())
        .map(str::to_owned)
}

const MIDDLE_NAME: &str = "grants = [\"directory\"]\ntimeout_ms = 1500\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_middle_name_strategy_does_not_propose_a_login_taken_in_okta() {
    let org = FakeOrg::start().await;
    org.add_user(
        "george.alexander.smith@example.com",
        "00u7",
        "DEPROVISIONED",
    );
    let strict = format!("{MIDDLE_NAME}on_error = \"fail\"\n[config]\nwhen_taken = \"error\"\n");
    let plugins =
        common::plugins_folder(&[("30-login-middle-name", "login-middle-name", MIDDLE_NAME)]);
    let strict_plugins =
        common::plugins_folder(&[("30-login-middle-name", "login-middle-name", &strict)]);
    let server = common::start(served_by(&org), Some(plugins.path())).await;
    let strict_server = common::start(served_by(&org), Some(strict_plugins.path())).await;
    assert_eq!(org.user_calls(), 0, "loading asked Okta nothing");

    // Taken (by a deactivated user): the login is left as it is, Okta reports the conflict.
    let taken = conflict("e1", "george.smith@example.com", "Alexander");
    let reply = server.hook(&taken).await;
    assert_eq!(
        reply.status,
        http::StatusCode::NO_CONTENT,
        "{:?}",
        reply.body
    );
    // Free: proposed.
    let reply = server
        .hook(&conflict("e2", "george.smith@example.com", "Bo"))
        .await;
    assert_eq!(
        new_login(&reply).as_deref(),
        Some("george.bo.smith@example.com")
    );
    assert_eq!(org.user_calls(), 2);
    let metrics = server.app.metrics().encode();
    for outcome in ["taken", "free"] {
        let series = format!(
            "importhook_directory_lookups_total{{operation=\"login-exists\",outcome=\"{outcome}\"}} 1"
        );
        assert!(metrics.contains(&series), "{series}: {metrics}");
    }

    // when_taken = "error" with on_error = "fail": Okta is told the plugin failed.
    let reply = strict_server.hook(&taken).await;
    assert_eq!(reply.status, http::StatusCode::OK);
    let summary = reply.json()["error"]["errorSummary"].clone();
    assert_eq!(
        summary,
        "importhook plugin 30-login-middle-name failed: plugin_error"
    );
    // Unknown (Okta failing): proposed as without lookups.
    let reply = strict_server
        .hook(&conflict("e3", "error-1@example.com", "Cy"))
        .await;
    assert_eq!(new_login(&reply).as_deref(), Some("error-1.cy@example.com"));
    server.stop().await;
    strict_server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_counter_strategy_skips_a_candidate_taken_in_okta() {
    let org = FakeOrg::start().await;
    org.add_user("joe0001@example.com", "00u8", "ACTIVE");
    let manifest = "timeout_ms = 2000\non_error = \"fail\"\ngrants = [\"state\", \"directory\"]\n";
    let plugins = common::plugins_folder(&[("40-counter", "login-counter-suffix", manifest)]);
    let server = common::start(served_by(&org), Some(plugins.path())).await;
    assert_eq!(org.user_calls(), 0, "loading asked Okta nothing");
    let mut logins = Vec::new();
    for event in ["e1", "e2", "e1"] {
        let reply = server.hook(&conflict(event, "Joe@example.com", "")).await;
        logins.push(new_login(&reply).expect("a new login"));
    }
    assert_eq!(
        logins,
        [
            "joe0002@example.com",
            "joe0003@example.com",
            // Okta's retry of e1 asks the same candidates and lands on the same login.
            "joe0002@example.com",
        ]
    );
    server.stop().await;
}

#[test]
fn a_plugin_using_the_directory_without_the_grant_is_refused_naming_the_grant() {
    let plugins = common::plugins_folder(&[("30-login-middle-name", "login-middle-name", "")]);
    let (set, problems) = importhook::engine::PluginSet::check(
        common::runtime(),
        plugins.path(),
        &importhook::engine::Services::scratch(),
    )
    .expect("folder readable");
    assert!(set.plugins().is_empty());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains("imports importhook:plugin/directory")
            && problems[0].contains("grants = [\"directory\"]"),
        "{}",
        problems[0]
    );
}

/// A certificate, a secret file and a config file for `doctor`, plus `extra` TOML lines.
fn doctor_setup(org: &FakeOrg, extra: &str) -> (common::TempDir, common::TempDir) {
    let dir = common::TempDir::new("doctor");
    common::write_localhost_certificate(dir.path());
    std::fs::write(dir.path().join("secrets"), "hook-secret-doctor\n").expect("secrets");
    let plugins =
        common::plugins_folder(&[("10-link", "link-single-match", "on_error = \"fail\"\n")]);
    let config = format!(
        "tls_cert = {:?}\ntls_key = {:?}\nsecret_file = {:?}\nplugins = {:?}\nokta_org_url = {:?}\nokta_ca_file = {:?}\n{extra}",
        dir.path().join("cert.pem"),
        dir.path().join("key.pem"),
        dir.path().join("secrets"),
        plugins.path(),
        org.url,
        org.ca_file(),
    );
    std::fs::write(dir.path().join("importhook.toml"), config).expect("config");
    (dir, plugins)
}

fn doctor(dir: &common::TempDir, token: Option<&str>) -> (bool, String) {
    doctor_with(dir, token, &[])
}

fn doctor_with(dir: &common::TempDir, token: Option<&str>, args: &[&str]) -> (bool, String) {
    let mut command = std::process::Command::new(BIN);
    command
        .arg("doctor")
        .args(args)
        .arg("--config")
        .arg(dir.path().join("importhook.toml"))
        .env_remove("IMPORTHOOK_SECRETS")
        .env_remove("IMPORTHOOK_OKTA_API_TOKEN");
    if let Some(token) = token {
        command.env("IMPORTHOOK_OKTA_API_TOKEN", token);
    }
    let output = command.output().expect("run doctor");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_good_configuration_and_names_what_is_wrong() {
    let org = FakeOrg::start().await;
    let (dir, _plugins) = doctor_setup(&org, "");
    let (ok, text) = tokio::task::block_in_place(|| doctor(&dir, Some(API_TOKEN)));
    assert!(ok, "{text}");
    for line in [
        "ok    certificate",
        "ok    plugins: ",
        "ok    okta credentials: API token",
        "ok    okta lookup",
    ] {
        assert!(text.contains(line), "{line} missing: {text}");
    }
    assert_eq!(org.user_calls(), 1, "one lookup");

    let (ok, text) = tokio::task::block_in_place(|| doctor(&dir, Some("wrong-token-123")));
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL  okta lookup") && text.contains("401"),
        "{text}"
    );
    for secret in ["wrong-token-123", API_TOKEN, "hook-secret-doctor"] {
        assert!(!text.contains(secret), "{secret} printed: {text}");
    }

    // A service app: one token fetch (with its nonce round) and one lookup.
    let app = format!(
        "okta_client_id = {CLIENT_ID:?}\nokta_private_key_file = {:?}\n",
        org.app_key_file()
    );
    let (app_dir, _plugins) = doctor_setup(&org, &app);
    let (ok, text) = tokio::task::block_in_place(|| doctor(&app_dir, None));
    assert!(ok, "{text}");
    assert!(text.contains("service app (DPoP-bound token)"), "{text}");
    assert!(!text.contains("fake-access-token"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_looks_up_the_login_the_admin_names_and_expects_it_taken() {
    let org = FakeOrg::start().await;
    org.add_user("Admin.Known@example.com", "00u9", "ACTIVE");
    let (dir, _plugins) = doctor_setup(&org, "");
    let (ok, text) = tokio::task::block_in_place(|| {
        doctor_with(
            &dir,
            Some(API_TOKEN),
            &["--probe-login", "admin.known@example.com"],
        )
    });
    assert!(ok, "{text}");
    assert!(
        text.contains("ok    okta lookup") && text.contains("found the user"),
        "{text}"
    );
    // A login the org answers 404 for: free, or invisible to a role scoped to a group.
    let (ok, text) = tokio::task::block_in_place(|| {
        doctor_with(
            &dir,
            Some(API_TOKEN),
            &["--probe-login", "outside-the-group@example.com"],
        )
    });
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL  okta lookup") && text.contains("cannot see that user"),
        "{text}"
    );
    for login in ["admin.known@example.com", "outside-the-group@example.com"] {
        assert!(
            !text.to_lowercase().contains(login),
            "login printed: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_fails_on_an_unreachable_org_and_a_missing_certificate() {
    let org = FakeOrg::start().await;
    let (dir, _plugins) = doctor_setup(&org, "");
    // Nothing listens on port 9 of loopback.
    let config = std::fs::read_to_string(dir.path().join("importhook.toml"))
        .expect("config")
        .replace(&org.url, "https://127.0.0.1:9");
    std::fs::write(dir.path().join("importhook.toml"), &config).expect("config");
    let (ok, text) = tokio::task::block_in_place(|| doctor(&dir, Some(API_TOKEN)));
    assert!(!ok, "{text}");
    assert!(
        text.contains("FAIL  okta lookup") && text.contains("cannot reach"),
        "{text}"
    );

    std::fs::remove_file(dir.path().join("cert.pem")).expect("remove");
    let (ok, text) = tokio::task::block_in_place(|| doctor(&dir, Some(API_TOKEN)));
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL  certificate"), "{text}");
}
