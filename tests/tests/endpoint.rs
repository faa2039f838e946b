//! End to end: the HTTPS endpoint and Okta's contract, with no plugins (pass-through).

mod common;

use std::time::{Duration, Instant};

use common::{PATH, SECRET, okta_sample, start};
use http::StatusCode;
use importhook::config::ConfigLayer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const JSON: (&str, &str) = ("content-type", "application/json");
const AUTH: (&str, &str) = ("authorization", SECRET);

#[tokio::test]
async fn the_right_secret_gets_204_without_plugins() {
    let server = start(ConfigLayer::default(), None).await;
    let reply = server.hook(&okta_sample()).await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.body.is_empty());
    server.stop().await;
}

#[tokio::test]
async fn missing_wrong_or_duplicated_secrets_get_401() {
    let server = start(ConfigLayer::default(), None).await;
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    for headers in [
        vec![JSON],
        vec![JSON, ("authorization", "e2e-secret")],
        vec![JSON, ("authorization", "Basic dGVzdDp0ZXN0")],
        vec![JSON, AUTH, AUTH],
    ] {
        let reply = server.request("POST", PATH, &headers, body.clone()).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{headers:?}");
        assert_eq!(reply.json()["error"]["errorSummary"], "unauthorized");
        assert!(!String::from_utf8_lossy(&reply.body).contains("e2e-secret"));
    }
    server.stop().await;
}

#[tokio::test]
async fn unauthenticated_requests_are_answered_without_reading_the_body() {
    let server = start(ConfigLayer::default(), None).await;
    // Announces a body that never comes: only an answer that skips the body returns at once.
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: wrong\r\ncontent-length: 1000\r\n\r\n"
    );
    let started = Instant::now();
    let reply = server.raw(head.as_bytes()).await;
    assert!(
        String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 401"),
        "{}",
        String::from_utf8_lossy(&reply)
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "waited for a body: {:?}",
        started.elapsed()
    );
    server.stop().await;
}

#[tokio::test]
async fn a_custom_header_carries_a_basic_auth_value_verbatim() {
    let layer = ConfigLayer {
        auth_header: Some("X-Okta-Hook-Secret".into()),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    let ok = server
        .request(
            "POST",
            PATH,
            &[JSON, ("x-okta-hook-secret", SECRET)],
            body.clone(),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT);
    let wrong_header = server.request("POST", PATH, &[JSON, AUTH], body).await;
    assert_eq!(wrong_header.status, StatusCode::UNAUTHORIZED);
    server.stop().await;
}

#[tokio::test]
async fn routing_method_and_content_type_errors() {
    let server = start(ConfigLayer::default(), None).await;
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    let not_found = server
        .request("POST", "/elsewhere", &[JSON, AUTH], body.clone())
        .await;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    let get = server.request("GET", PATH, &[AUTH], Vec::new()).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        get.headers.get("allow").map(|v| v.as_bytes()),
        Some(&b"POST"[..])
    );
    let text = server
        .request(
            "POST",
            PATH,
            &[("content-type", "text/plain"), AUTH],
            body.clone(),
        )
        .await;
    assert_eq!(text.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let gzip = server
        .request(
            "POST",
            PATH,
            &[JSON, AUTH, ("content-encoding", "gzip")],
            body,
        )
        .await;
    assert_eq!(gzip.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    server.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413_declared_or_chunked() {
    let layer = ConfigLayer {
        max_body_bytes: Some(1024),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let declared = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ncontent-length: 5000\r\n\r\n"
    );
    let reply = server.raw(declared.as_bytes()).await;
    assert!(
        String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&reply)
    );

    let mut chunked = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ntransfer-encoding: chunked\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..4 {
        chunked.extend_from_slice(format!("{:x}\r\n{}\r\n", 512, "x".repeat(512)).as_bytes());
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let reply = server.raw(&chunked).await;
    assert!(
        String::from_utf8_lossy(&reply).starts_with("HTTP/1.1 413"),
        "{}",
        String::from_utf8_lossy(&reply)
    );

    let fits = server.hook(&okta_sample()).await;
    assert_eq!(
        fits.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "the sample is over 1 KiB too"
    );
    server.stop().await;
}

#[tokio::test]
async fn bad_bodies_and_wrong_event_types_get_400_with_an_error_object() {
    let server = start(ConfigLayer::default(), None).await;
    let garbage = server
        .request(
            "POST",
            PATH,
            &[JSON, AUTH],
            b"{\"eventId\": \"canary-value".to_vec(),
        )
        .await;
    assert_eq!(garbage.status, StatusCode::BAD_REQUEST);
    let summary = garbage.json()["error"]["errorSummary"]
        .as_str()
        .expect("summary")
        .to_owned();
    assert!(
        summary.contains("not a valid Okta import hook request"),
        "{summary}"
    );
    assert!(!summary.contains("canary"), "{summary}");

    let mut wrong_type = okta_sample();
    wrong_type["eventType"] = "com.okta.user.pre-registration".into();
    let reply = server.hook(&wrong_type).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.json()["error"]["errorSummary"]
            .as_str()
            .expect("summary")
            .contains("eventType")
    );

    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let layer_limit = server
        .request("POST", PATH, &[JSON, AUTH], deep.into_bytes())
        .await;
    assert_eq!(layer_limit.status, StatusCode::BAD_REQUEST);
    server.stop().await;
}

/// A TLS 1.0 or 1.1 ClientHello (no supported_versions extension): the server must refuse it.
fn legacy_client_hello(minor: u8) -> Vec<u8> {
    let mut hello = vec![0x03, minor]; // client_version: 0x0301 TLS 1.0, 0x0302 TLS 1.1
    hello.extend_from_slice(&[0x42; 32]); // random
    hello.push(0); // session id
    let suites: [u16; 4] = [0xc013, 0xc014, 0x002f, 0x0035]; // ECDHE/RSA CBC suites of TLS 1.1
    hello.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for suite in suites {
        hello.extend_from_slice(&suite.to_be_bytes());
    }
    hello.extend_from_slice(&[1, 0]); // compression: null
    let mut handshake = vec![0x01];
    handshake.extend_from_slice(&(hello.len() as u32).to_be_bytes()[1..]);
    handshake.extend_from_slice(&hello);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&(handshake.len() as u16).to_be_bytes());
    record.extend_from_slice(&handshake);
    record
}

#[tokio::test]
async fn tls_1_0_and_1_1_are_refused_and_1_2_and_1_3_are_accepted() {
    let server = start(ConfigLayer::default(), None).await;
    for minor in [1u8, 2] {
        let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
        tcp.write_all(&legacy_client_hello(minor))
            .await
            .expect("hello");
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(5), tcp.read_to_end(&mut answer)).await;
        assert_eq!(
            answer.first(),
            Some(&0x15),
            "TLS 1.{}: expected an alert, got {answer:02x?}",
            minor - 1
        );
        assert_eq!(
            answer.get(5),
            Some(&0x02),
            "TLS 1.{}: expected a fatal alert, got {answer:02x?}",
            minor - 1
        );
    }

    for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
        let config = common::client_config(&server.cert, &[version]);
        let stream = server.connect_with(config).await.expect("handshake");
        assert_eq!(stream.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    }
    server.stop().await;
}

#[tokio::test]
async fn silent_clients_are_closed_at_the_handshake_and_header_timeouts() {
    let layer = ConfigLayer {
        handshake_timeout_ms: Some(300),
        header_timeout_ms: Some(300),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    // Connects, never starts TLS.
    let started = Instant::now();
    let mut tcp = TcpStream::connect(server.addr).await.expect("connect");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf))
        .await
        .expect("closed before 5 s");
    assert_eq!(read.expect("read"), 0, "expected EOF");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    // Completes TLS, never sends a request head.
    let started = Instant::now();
    let mut tls = server.connect().await;
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut buf))
        .await
        .expect("closed before 5 s");
    assert!(
        matches!(read, Ok(0) | Err(_)),
        "expected the connection closed, got {read:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    // Sends half a request head, then stalls.
    let started = Instant::now();
    let mut tls = server.connect().await;
    tls.write_all(format!("POST {PATH} HTTP/1.1\r\nhost: localhost\r\n").as_bytes())
        .await
        .expect("half a head");
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), tls.read_to_end(&mut answer)).await;
    assert!(read.is_ok(), "closed before 5 s");
    assert!(
        !String::from_utf8_lossy(&answer).contains(" 2"),
        "{answer:?}"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "{:?}",
        started.elapsed()
    );

    // Meanwhile a normal client is served.
    assert_eq!(
        server.hook(&okta_sample()).await.status,
        StatusCode::NO_CONTENT
    );
    server.stop().await;
}

#[tokio::test]
async fn admin_reports_liveness_and_readiness() {
    // No plugin on purpose: ready only because it is allowed.
    let layer = ConfigLayer {
        allow_no_plugins: Some(true),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    assert_eq!(server.admin_get("/livez").await.0, StatusCode::OK);
    assert_eq!(server.admin_get("/readyz").await.0, StatusCode::OK);
    assert_eq!(server.admin_get("/nope").await.0, StatusCode::NOT_FOUND);
    server.app.set_ready(false);
    assert_eq!(
        server.admin_get("/readyz").await.0,
        StatusCode::SERVICE_UNAVAILABLE
    );
    server.stop().await;
}

#[tokio::test]
async fn a_connection_flood_past_the_cap_displaces_only_itself() {
    let layer = ConfigLayer {
        max_connections: Some(4),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let body = serde_json::to_vec(&okta_sample()).expect("json");
    // A keep-alive connection that has authenticated (its first request served).
    let authenticated = || async {
        let stream = server.connect().await;
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(connection);
        assert_eq!(send(&mut sender, &body).await, StatusCode::NO_CONTENT);
        sender
    };
    // The control client holds one keep-alive connection from before the flood.
    let mut control = authenticated().await;

    // Connections that never even handshake: each new one takes the slot of the oldest of
    // them, so the flood only ever displaces itself.
    let mut flood = Vec::new();
    for _ in 0..20 {
        let mut tcp = TcpStream::connect(server.addr)
            .await
            .expect("tcp accept still happens");
        let mut buf = [0u8; 1];
        // Admitted: it waits for its handshake, nothing comes.
        assert!(
            tokio::time::timeout(Duration::from_millis(200), tcp.read(&mut buf))
                .await
                .is_err(),
            "a new connection was refused while unauthenticated ones held slots"
        );
        flood.push(tcp);
        assert_eq!(send(&mut control, &body).await, StatusCode::NO_CONTENT);
    }
    // Only the three newest are still open.
    let mut open = 0;
    for tcp in &mut flood {
        let mut buf = [0u8; 1];
        if tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf))
            .await
            .is_err()
        {
            open += 1;
        }
    }
    assert_eq!(open, 3, "the cap leaves room for three more");
    drop(flood);

    // Once every open connection has authenticated, a new one is closed at once.
    let _others = [
        authenticated().await,
        authenticated().await,
        authenticated().await,
    ];
    let mut tcp = TcpStream::connect(server.addr).await.expect("tcp accept");
    let mut buf = [0u8; 1];
    assert!(
        matches!(
            tokio::time::timeout(Duration::from_secs(2), tcp.read(&mut buf)).await,
            Ok(Ok(0) | Err(_))
        ),
        "a connection past a cap of authenticated connections is closed at once"
    );
    assert_eq!(send(&mut control, &body).await, StatusCode::NO_CONTENT);
    server.stop().await;
}

/// POSTs `body` on a keep-alive connection; its status.
async fn send(
    sender: &mut hyper::client::conn::http1::SendRequest<http_body_util::Full<bytes::Bytes>>,
    body: &[u8],
) -> StatusCode {
    let request = http::Request::post(PATH)
        .header("host", "localhost")
        .header("authorization", SECRET)
        .header("content-type", "application/json")
        .body(http_body_util::Full::new(bytes::Bytes::from(body.to_vec())))
        .expect("request");
    sender.send_request(request).await.expect("served").status()
}

#[tokio::test]
async fn a_slow_body_is_cut_at_its_timeout_while_a_control_client_is_served() {
    let layer = ConfigLayer {
        body_timeout_ms: Some(300),
        ..ConfigLayer::default()
    };
    let server = start(layer, None).await;
    let mut slow = server.connect().await;
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nauthorization: {SECRET}\r\ncontent-length: 100\r\n\r\n{{\"eventId\""
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    let started = Instant::now();
    assert_eq!(
        server.hook(&okta_sample()).await.status,
        StatusCode::NO_CONTENT,
        "control client"
    );
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.stop().await;
}
