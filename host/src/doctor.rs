//! `importhook doctor`: checks the configuration end to end — certificate, secrets or OAuth
//! keys, plugins, Okta credentials (one token fetch, one lookup) — and says what is wrong in
//! plain words, one line per check. Prints no secret and no login.

use std::path::Path;
use std::time::Duration;

use crate::config::Settings;
use crate::directory::{Directory, Presence};
use crate::engine::{PluginSet, Runtime};
use crate::outbound::Outbound;
use crate::tls::TlsSource;

/// A login no org holds: without `--probe-login` the lookup probe expects `free` (a `taken`
/// is fine too), which shows the org answers but cannot tell "free" from "not visible".
const PROBE_LOGIN: &str = "importhook-doctor-probe@example.invalid";
/// How long the Okta probe may take (a cold connection and a token fetch, not a hook call).
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// The checks' results; `Ok` when every check passed.
#[derive(Debug, Default)]
struct Report {
    failures: usize,
}

impl Report {
    fn ok(&mut self, what: &str, detail: impl std::fmt::Display) {
        println!("ok    {what}: {detail}");
    }

    fn fail(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.failures += 1;
        println!("FAIL  {what}: {detail}");
    }
}

/// Runs every check on `settings`; fails when any check failed.
/// `probe_login`, when given, is a login an Okta user holds: the lookup check expects `taken`.
pub fn run(settings: &Settings, probe_login: Option<&str>) -> anyhow::Result<()> {
    let mut report = Report::default();
    match (&settings.tls, crate::tls::load(&settings.tls)) {
        (TlsSource::SelfSigned, Ok(_)) => {
            report.ok("certificate", "self-signed for localhost (--dev only)")
        }
        (_, Ok(tls)) => report.ok(
            "certificate",
            format!("loaded, SHA-256 {}", tls.fingerprint),
        ),
        (_, Err(e)) => report.fail("certificate", format!("{e:#}")),
    }
    if settings.oauth.is_none() {
        report.ok(
            "secrets",
            format!(
                "{} accepted in header {}",
                settings.secrets.len(),
                settings.secrets.header()
            ),
        );
    }
    check_plugins(
        &mut report,
        &settings.plugins_dir,
        &settings.cache_dir,
        settings.engine.max_plugin_bytes,
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(check_network(&mut report, settings, probe_login));
    runtime.block_on(check_state(
        &mut report,
        &settings.state,
        settings.admin_listen,
    ));
    if report.failures == 0 {
        println!("everything checked is fine");
        Ok(())
    } else {
        anyhow::bail!("{} check(s) failed", report.failures)
    }
}

/// Opens the state store the way `serve` would and asks it to answer. An embedded file held by
/// a running server is fine (that server is using it); a missing one is created at first use.
async fn check_state(
    report: &mut Report,
    config: &crate::state::StateConfig,
    admin: std::net::SocketAddr,
) {
    use crate::state::StateConfig;
    match config {
        StateConfig::Embedded(path) if !path.exists() => report.ok(
            "state",
            format!(
                "state file {} is created when a plugin granted state first loads",
                path.display()
            ),
        ),
        StateConfig::Redis { url, .. } => {
            let memory = match crate::state::RedisStore::new(url) {
                Ok(store) => tokio::time::timeout(Duration::from_secs(3), store.memory()).await,
                Err(e) => return report.fail("state", format!("{e:#}")),
            };
            match memory {
                Ok(Ok(memory)) => match memory.check() {
                    Ok(()) => report.ok(
                        "state",
                        format!(
                            "redis store answers; maxmemory-policy noeviction; {}",
                            memory.usage()
                        ),
                    ),
                    Err(why) => report.fail("state", format!("{why}; {}", memory.usage())),
                },
                Ok(Err(e)) => report.fail(
                    "state",
                    format!("the redis store does not answer INFO memory ({e:#}): is it running and reachable?"),
                ),
                Err(_) => report.fail(
                    "state",
                    "the redis store does not answer within 3 s (is it running and reachable?)",
                ),
            }
        }
        _ => match crate::state::open(config) {
            Ok(store) => match tokio::time::timeout(Duration::from_secs(3), store.ping()).await {
                Ok(true) => report.ok("state", format!("{} store answers", store.backend())),
                _ => report.fail(
                    "state",
                    format!(
                        "the {} store does not answer within 3 s (is it running and reachable?)",
                        config.backend()
                    ),
                ),
            },
            Err(e) if format!("{e:#}").contains("another process has it open") => {
                match running_store_up(admin) {
                    Some(true) => report.ok(
                        "state",
                        "state file is held by a running importhook, which writes it fine",
                    ),
                    Some(false) => report.fail(
                        "state",
                        "state file is held by a running importhook whose writes to it fail (disk full, read-only or I/O errors: see its log); it reopens the file by itself once writes go through",
                    ),
                    None => report.ok(
                        "state",
                        "state file is held by a running importhook (the service using it; its admin listener did not say how the file is)",
                    ),
                }
            }
            Err(e) => report.fail("state", format!("{e:#}")),
        },
    }
}

/// What the server listening on `admin` says of its embedded store
/// (`importhook_state_store_up`), if it answers within a second.
fn running_store_up(admin: std::net::SocketAddr) -> Option<bool> {
    use std::io::{Read, Write};
    let mut addr = admin;
    if addr.ip().is_unspecified() {
        addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let timeout = Duration::from_secs(1);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, timeout).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    stream.set_write_timeout(Some(timeout)).ok()?;
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: importhook\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    stream.take(4 << 20).read_to_string(&mut text).ok()?;
    text.lines()
        .find(|l| l.starts_with("importhook_state_store_up{backend=\"embedded\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.trim() == "1")
}

fn check_plugins(report: &mut Report, dir: &Path, cache: &Path, max_plugin_bytes: u64) {
    if let Some(missing) = crate::engine::folders(dir).iter().find(|d| !d.exists()) {
        report.fail(
            "plugins",
            format!(
                "folder {} does not exist (every request would answer 204)",
                missing.display()
            ),
        );
        return;
    }
    let checked = Runtime::new(Some(cache.to_path_buf()), false).and_then(|runtime| {
        runtime.set_max_plugin_bytes(max_plugin_bytes);
        PluginSet::check(runtime, dir, &crate::engine::Services::scratch())
    });
    match checked {
        Err(e) => report.fail("plugins", format!("{e:#}")),
        Ok((_, problems)) if !problems.is_empty() => {
            for problem in problems {
                report.fail("plugins", problem);
            }
        }
        Ok((set, _)) if set.plugins().is_empty() => report.fail(
            "plugins",
            format!(
                "no plugin in {} (every request would answer 204)",
                dir.display()
            ),
        ),
        Ok((set, _)) => {
            let names: Vec<_> = set.plugins().iter().map(|p| p.name().to_owned()).collect();
            report.ok("plugins", names.join(", "));
        }
    }
}

/// Which tokens are accepted, and why only those: every app of the authorization server gets
/// tokens with the same `iss` and `aud`.
fn oauth_rule(oauth: &crate::oauth::OAuthSettings) -> String {
    let scope = match &oauth.scope {
        Some(scope) => format!("with scope {scope} in scp"),
        None => "with any scope (oauth_scope not set: recommended, the custom scope only the hook's client is granted)".to_owned(),
    };
    format!(
        "only tokens issued to client {} (cid and sub) and to no user (no uid) are accepted, {scope}: any other app or user of the authorization server gets tokens with the same issuer and audience",
        oauth.client_id
    )
}

async fn check_network(report: &mut Report, settings: &Settings, probe_login: Option<&str>) {
    let outbound = match Outbound::new(&settings.extra_cas()) {
        Ok(outbound) => outbound,
        Err(e) => {
            report.fail("outbound HTTPS", format!("{e:#}"));
            return;
        }
    };
    if let Some(oauth) = settings.oauth.clone() {
        report.ok("oauth client", oauth_rule(&oauth));
        let issuer = oauth.issuer.clone();
        let verifier = crate::oauth::OAuthVerifier::with_client(oauth, outbound.clone());
        verifier.jwks().refresh_if_due().await;
        match verifier.jwks().key_count() {
            0 => report.fail(
                "oauth",
                format!("no usable RS256 signing key could be fetched for {issuer}"),
            ),
            n => report.ok("oauth", format!("{n} signing key(s) from {issuer}")),
        }
    }
    let Some(config) = settings.directory.clone() else {
        report.ok("okta", "no okta_org_url: directory lookups answer unknown");
        return;
    };
    let org = config.org_url.clone();
    let directory = match Directory::okta(config, outbound) {
        Ok(directory) => directory,
        Err(e) => {
            report.fail("okta credentials", format!("{e:#}"));
            return;
        }
    };
    match tokio::time::timeout(PROBE_TIMEOUT, directory.check_credentials()).await {
        Ok(Ok(kind)) => report.ok("okta credentials", kind),
        Ok(Err(e)) => {
            report.fail("okta credentials", format!("{e:#}"));
            return;
        }
        Err(_) => {
            report.fail(
                "okta credentials",
                format!("no token from {org} within 10 s"),
            );
            return;
        }
    }
    let Some(login) = probe_login else {
        match directory.probe(PROBE_LOGIN, PROBE_TIMEOUT).await {
            Ok(Presence::Free | Presence::Taken) => report.ok(
                "okta lookup",
                format!(
                    "{org} answered a login lookup (name a login an Okta user holds with --probe-login to check these credentials see users)"
                ),
            ),
            Ok(Presence::Unknown) => report.fail("okta lookup", "not answered"),
            Err(why) => report.fail("okta lookup", format!("{org}: {why}")),
        }
        return;
    };
    // The login is the admin's own input; still, it is not printed (logs and outputs carry no
    // login anywhere).
    match directory.probe(login, PROBE_TIMEOUT).await {
        Ok(Presence::Taken) => report.ok(
            "okta lookup",
            format!("{org} found the user holding the --probe-login login"),
        ),
        Ok(Presence::Free) => report.fail(
            "okta lookup",
            format!(
                "{org} answered 404 for the --probe-login login: either no user holds it, or these credentials cannot see that user (an admin role scoped to a group answers 404 for users outside it; give the API token's admin or the service app a role over all users, e.g. Read-only Administrator)"
            ),
        ),
        Ok(Presence::Unknown) => report.fail("okta lookup", "not answered"),
        Err(why) => report.fail("okta lookup", format!("{org}: {why}")),
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::time::Duration;

    use super::*;
    use crate::oauth::{JwksSource, OAuthSettings};

    /// An admin listener answering one request with `metrics`.
    fn admin_answering(metrics: &'static str) -> std::net::SocketAddr {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().expect("accept");
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{metrics}",
                metrics.len()
            );
        });
        addr
    }

    #[test]
    fn a_running_servers_store_health_is_read_from_its_metrics() {
        let failing = admin_answering("# x\nimporthook_state_store_up{backend=\"embedded\"} 0\n");
        assert_eq!(running_store_up(failing), Some(false));
        let fine = admin_answering("importhook_state_store_up{backend=\"embedded\"} 1\n");
        assert_eq!(running_store_up(fine), Some(true));
        let silent = admin_answering("importhook_requests_total 3\n");
        assert_eq!(running_store_up(silent), None);
        let nobody = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("addr");
        assert_eq!(running_store_up(nobody), None);
    }

    fn settings(scope: Option<&str>) -> OAuthSettings {
        OAuthSettings {
            issuer: "https://dev-1.okta.com/oauth2/default".into(),
            audience: "api://default".into(),
            client_id: "0oahook".into(),
            scope: scope.map(str::to_owned),
            leeway: Duration::from_secs(120),
            jwks: JwksSource::Discover,
            ca_file: None,
            refresh_interval: Duration::from_secs(60),
            fetch_timeout: Duration::from_secs(2),
        }
    }

    #[test]
    fn the_oauth_line_says_which_tokens_pass_and_why() {
        let line = oauth_rule(&settings(Some("okta.hooks.import")));
        assert!(
            line.contains("client 0oahook (cid and sub)")
                && line.contains("no uid")
                && line.contains("scope okta.hooks.import")
                && line.contains("same issuer and audience"),
            "{line}"
        );
        let line = oauth_rule(&settings(None));
        assert!(line.contains("oauth_scope not set: recommended"), "{line}");
    }
}
