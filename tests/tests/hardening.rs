//! End to end: personal data and secrets never leak (canary values through every path, logs
//! captured at TRACE), and malformed HTTP is refused without harm.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use common::{PATH, TempDir, plugins_folder};
use http::StatusCode;
use importhook::config::{ConfigLayer, Settings};

const CANARY_SECRET: &str = "canary-secret-7f3a9c";
const CANARIES: [&str; 5] = [
    CANARY_SECRET,
    "canary.person@example.org",
    "Canaryfirst",
    "Canarylast",
    "+1-555-0199-7788",
];

/// Every log line of this test binary, at TRACE.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Sink(sink.clone()))
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
        logs
    })
    .clone()
}

struct Sink(Arc<Mutex<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("logs").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn canary_request(fault: &str) -> serde_json::Value {
    let mut request = common::okta_sample();
    let app = &mut request["data"]["appUser"]["profile"];
    app["firstName"] = "Canaryfirst".into();
    app["lastName"] = "Canarylast".into();
    app["email"] = "canary.person@example.org".into();
    app["mobilePhone"] = "+1-555-0199-7788".into();
    app["middleName"] = "Canarymiddle".into();
    app["fault"] = fault.into();
    let user = &mut request["data"]["user"]["profile"];
    user["login"] = "canary.person@example.org".into();
    user["email"] = "canary.person@example.org".into();
    user["firstName"] = "Canaryfirst".into();
    user["lastName"] = "Canarylast".into();
    user["mobilePhone"] = "+1-555-0199-7788".into();
    request
}

#[tokio::test]
async fn canary_values_reach_no_log_metric_error_or_debug_context() {
    let logs = captured_logs();
    let dir = TempDir::new("canary");
    std::fs::write(dir.path().join("secrets"), format!("{CANARY_SECRET}\n")).expect("secret");
    let fault =
        "timeout_ms = 100\nmemory_mib = 16\non_error = \"fail\"\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[
        ("10-normalize-login", "normalize-login", ""),
        ("20-login-middle-name", "login-middle-name", ""),
        ("30-fault", "fault-plugin", fault),
    ]);
    let layer = ConfigLayer {
        secret_file: Some(dir.path().join("secrets")),
        ..ConfigLayer::default()
    };
    let server = common::start(layer.clone(), Some(plugins.path())).await;

    let mut bodies = Vec::new();
    let json = ("content-type", "application/json");
    for fault in [
        "ok",
        "loop",
        "memory",
        "trap",
        "panic",
        "error",
        "empty-link",
        "huge-value",
        "bad-json",
    ] {
        let body = serde_json::to_vec(&canary_request(fault)).expect("json");
        let reply = server
            .request(
                "POST",
                PATH,
                &[json, ("authorization", CANARY_SECRET)],
                body,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{fault}");
        bodies.push(
            reply
                .json()
                .get("error")
                .or(reply.json().get("debugContext"))
                .cloned()
                .unwrap_or_default()
                .to_string(),
        );
    }
    // Refusals: wrong secret (the canary secret with a typo), unparsable body with canaries.
    let wrong = format!("{CANARY_SECRET}x");
    let reply = server
        .request(
            "POST",
            PATH,
            &[json, ("authorization", &wrong)],
            b"{}".to_vec(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
    bodies.push(String::from_utf8_lossy(&reply.body).into_owned());
    let broken = format!(
        "{{\"eventId\": \"e\", \"data\": {{\"note\": \"{}\"",
        CANARIES[1]
    );
    let reply = server
        .request(
            "POST",
            PATH,
            &[json, ("authorization", CANARY_SECRET)],
            broken.into_bytes(),
        )
        .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    bodies.push(String::from_utf8_lossy(&reply.body).into_owned());
    let (_, metrics) = server.admin_get("/metrics").await;
    server.stop().await;

    let settings = Settings::resolve(&layer, None, Some(CANARY_SECRET), true).expect("settings");
    let debug = format!("{settings:?} {:?}", settings.secrets);

    let logs = String::from_utf8_lossy(&logs.lock().expect("logs")).into_owned();
    assert!(logs.contains("request"), "logs were captured");
    for canary in CANARIES {
        assert!(!logs.contains(canary), "{canary} in the logs");
        assert!(!metrics.contains(canary), "{canary} in the metrics");
        assert!(!debug.contains(canary), "{canary} in Debug of the settings");
        for body in &bodies {
            assert!(!body.contains(canary), "{canary} in an answer: {body}");
        }
    }
}

#[tokio::test]
async fn oversized_headers_get_431_and_smuggling_attempts_are_refused() {
    let server = common::start(ConfigLayer::default(), None).await;
    let big = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nx-big: {}\r\ncontent-length: 0\r\n\r\n",
        "a".repeat(20_000)
    );
    let reply = String::from_utf8_lossy(&server.raw(big.as_bytes()).await).into_owned();
    assert!(reply.starts_with("HTTP/1.1 431"), "{reply}");

    let smuggle = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nauthorization: {}\r\ncontent-type: application/json\r\ncontent-length: 4\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        common::SECRET
    );
    let reply = String::from_utf8_lossy(&server.raw(smuggle.as_bytes()).await).into_owned();
    assert!(
        !reply.starts_with("HTTP/1.1 2"),
        "conflicting framing must not be served: {reply}"
    );

    let plain_http = b"POST /okta/import HTTP/1.1\r\nhost: localhost\r\n\r\n";
    let mut tcp = tokio::net::TcpStream::connect(server.addr)
        .await
        .expect("connect");
    tokio::io::AsyncWriteExt::write_all(&mut tcp, plain_http)
        .await
        .expect("write");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        tokio::io::AsyncReadExt::read_to_end(&mut tcp, &mut answer),
    )
    .await;
    assert!(
        !String::from_utf8_lossy(&answer).contains("HTTP/1.1"),
        "plain HTTP on the TLS port must not be answered"
    );
    assert_eq!(
        server.hook(&common::okta_sample()).await.status,
        StatusCode::NO_CONTENT
    );
    server.stop().await;
}

#[tokio::test]
async fn a_repeated_content_type_and_unknown_transfer_codings_are_refused() {
    let server = common::start(ConfigLayer::default(), None).await;
    let body = serde_json::to_vec(&common::okta_sample()).expect("json");
    let auth = format!("authorization: {}\r\n", common::SECRET);
    let status_of = |reply: &[u8]| String::from_utf8_lossy(reply).get(..12).map(str::to_owned);

    let twice = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{auth}content-type: application/json\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let reply = server.raw(&[twice.as_bytes(), &body].concat()).await;
    assert_eq!(
        status_of(&reply).as_deref(),
        Some("HTTP/1.1 400"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        String::from_utf8_lossy(&reply)
            .contains(r#"{"error":{"errorSummary":"content type must be given once"}}"#),
        "{}",
        String::from_utf8_lossy(&reply)
    );

    let chunked = [
        format!("{:x}\r\n", body.len()).into_bytes(),
        body.clone(),
        b"\r\n0\r\n\r\n".to_vec(),
    ]
    .concat();
    for coding in ["foo, chunked", "gzip, chunked", "chunked, chunked"] {
        let head = format!(
            "POST {PATH} HTTP/1.1\r\nhost: localhost\r\n{auth}content-type: application/json\r\ntransfer-encoding: {coding}\r\n\r\n"
        );
        let reply = server.raw(&[head.as_bytes(), &chunked].concat()).await;
        let text = String::from_utf8_lossy(&reply);
        assert_eq!(
            status_of(&reply).as_deref(),
            Some("HTTP/1.1 501"),
            "{coding}: {text}"
        );
        assert!(text.contains("errorSummary"), "{coding}: {text}");
        assert!(
            text.to_ascii_lowercase().contains("connection: close"),
            "{coding}: {text}"
        );
    }
    // `chunked` alone is fine.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n{auth}content-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let reply = server.raw(&[head.as_bytes(), &chunked].concat()).await;
    assert_eq!(
        status_of(&reply).as_deref(),
        Some("HTTP/1.1 204"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    server.stop().await;
}

#[tokio::test]
async fn the_wait_for_a_pipeline_slot_is_measured() {
    let plugins = plugins_folder(&[("10-normalize-login", "normalize-login", "")]);
    let server = common::start(ConfigLayer::default(), Some(plugins.path())).await;
    assert!(
        server
            .hook(&common::okta_sample())
            .await
            .status
            .is_success()
    );
    let (_, metrics) = server.admin_get("/metrics").await;
    assert!(
        metrics.contains("importhook_pipeline_wait_seconds_count 1"),
        "{metrics}"
    );
    server.stop().await;
}
