//! End to end: what the instance pool keeps resident after bursts of several plugins. Each
//! pooled slot keeps up to 2 MiB of what its last call touched; a new instance takes a slot
//! another plugin used before a never-used one, so the slots ever used are the most instances
//! alive at once, whatever the number of plugins. A test binary of its own: resident memory is
//! sampled for the whole process.

mod common;

use std::sync::Arc;

use common::{okta_sample, plugins_folder, rss, start_with};
use http::StatusCode;
use importhook::config::ConfigLayer;
use importhook::engine::{MAX_CONCURRENT_CALLS, Runtime, SPARE_WARM_SLOTS};

const MIB: u64 = 1 << 20;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bursts_through_several_plugins_reuse_the_same_pool_slots() {
    // A budget that never limits: this test is about what stays resident afterwards.
    let runtime = Runtime::with_memory_budget(
        Some(common::workspace_root().join("target/e2e-cache")),
        false,
        (1024 * MIB) as usize,
    )
    .expect("runtime");
    // Three plugins, each touching its whole 4 MiB before it fails (skipped): every call
    // leaves its slot 2 MiB to keep.
    let manifest = "memory_mib = 4\ntimeout_ms = 2000\n[config]\nmode = \"when-asked\"\n";
    let plugins = plugins_folder(&[
        ("10-bomb-a", "fault-plugin", manifest),
        ("20-bomb-b", "fault-plugin", manifest),
        ("30-bomb-c", "fault-plugin", manifest),
    ]);
    let layer = ConfigLayer {
        request_timeout_ms: Some(20_000),
        ..ConfigLayer::default()
    };
    let server = Arc::new(start_with(layer, Some(plugins.path()), runtime).await);
    let mut request = okta_sample();
    request["data"]["appUser"]["profile"]["fault"] = "memory".into();
    for _ in 0..3 {
        assert_eq!(server.hook(&request).await.status, StatusCode::NO_CONTENT);
    }
    let baseline = rss();

    for _ in 0..3 {
        let burst: Vec<_> = (0..64)
            .map(|_| {
                let (server, request) = (server.clone(), request.clone());
                tokio::spawn(async move { server.hook(&request).await.status })
            })
            .collect();
        for call in burst {
            assert_eq!(call.await.expect("burst request"), StatusCode::NO_CONTENT);
        }
    }
    let kept = rss().saturating_sub(baseline);
    eprintln!("resident after the bursts: +{} MiB", kept / MIB);
    // At most 64 instances are alive at once (one per pipeline), plus the 16 idle slots that
    // keep their plugin's image (SPARE_WARM_SLOTS): 80 slots x 2 MiB, plus this process's own
    // growth (64 TLS clients and their connections, allocator slack). Seen +161..177 MiB with
    // no spare slots; without reuse across plugins (wasmtime's default of 100 spare warm
    // slots) the same bursts kept +305 MiB.
    assert!(
        kept < (u64::from(MAX_CONCURRENT_CALLS + SPARE_WARM_SLOTS) * 2 + 96) * MIB,
        "{} MiB stayed resident after bursts through 3 plugins",
        kept / MIB
    );
}
