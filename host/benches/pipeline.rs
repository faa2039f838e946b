//! Micro-benchmarks of the plugin runtime without HTTP: one plugin call in a fresh isolated
//! instance and in a warm one, and the whole three-strategy pipeline in both modes, on Okta's
//! reference request.
//!
//! The plugins are read from `wasm32-unknown-unknown/release` (`bench/run.sh` builds them) or
//! `e2e-wasm/wasm32-unknown-unknown/release` (the end-to-end tests do) in Cargo's target folder.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use importhook::engine::{PluginSet, Runtime};
use importhook::okta::ImportRequest;

fn wasm_dir() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace")
        .to_path_buf();
    // Cargo's target folder: `CARGO_TARGET_DIR` when the build set one, else the workspace's.
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    [
        "wasm32-unknown-unknown/release",
        "e2e-wasm/wasm32-unknown-unknown/release",
    ]
    .iter()
    .map(|dir| target.join(dir))
    .find(|dir| dir.join("importhook_noop_plugin.wasm").exists())
    .expect("build the plugins first: cargo build --release --target wasm32-unknown-unknown -p normalize-login -p login-middle-name -p link-single-match -p importhook-noop-plugin")
}

/// Loads `plugins` (file stem, built wasm file) as a set, through a scratch folder, each with
/// the manifest `manifest`.
fn load_with(runtime: &Arc<Runtime>, plugins: &[(&str, &str)], manifest: &str) -> PluginSet {
    let dir = std::env::temp_dir().join(format!(
        "importhook-bench-{}-{}",
        std::process::id(),
        plugins[0].0
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    for (stem, file) in plugins {
        std::fs::copy(wasm_dir().join(file), dir.join(format!("{stem}.wasm"))).expect("copy");
        // login-middle-name checks its proposal with the directory (no Okta org here: every
        // lookup answers `unknown` at once, as in the HTTP benchmark).
        let manifest = format!("grants = [\"directory\"]\n{manifest}");
        std::fs::write(dir.join(format!("{stem}.toml")), manifest).expect("manifest");
    }
    let set = PluginSet::load(
        runtime.clone(),
        &dir,
        &importhook::engine::Services::scratch(),
    )
    .expect("load");
    let _ = std::fs::remove_dir_all(&dir);
    set
}

/// Per-call instances (the default).
fn load(runtime: &Arc<Runtime>, plugins: &[(&str, &str)]) -> PluginSet {
    load_with(runtime, plugins, "")
}

/// Warm instances.
fn load_warm(runtime: &Arc<Runtime>, plugins: &[(&str, &str)]) -> PluginSet {
    load_with(runtime, plugins, "instance = \"warm\"\n")
}

const THREE: [(&str, &str); 3] = [
    ("10-normalize-login", "normalize_login.wasm"),
    ("20-link-single-match", "link_single_match.wasm"),
    ("30-login-middle-name", "login_middle_name.wasm"),
];

fn request() -> Arc<ImportRequest> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/okta-samples/request-reference-docs.json");
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("sample")).expect("json");
    json["data"]["appUser"]["profile"]["middleName"] = "Elizabeth".into();
    Arc::new(serde_json::from_value(json).expect("request"))
}

fn benches(c: &mut Criterion) {
    let runtime = Runtime::new(None, false).expect("runtime");
    // Plugin calls are async (a fiber on the calling task); the server runs them on its tokio
    // workers, the benchmark on a one-thread runtime driven from the measuring loop.
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("tokio");
    let request = request();

    let middle_name = [("20-login-middle-name", "login_middle_name.wasm")];
    let one = load(&runtime, &middle_name);
    c.bench_function("one plugin call (fresh instance, login-middle-name)", |b| {
        b.iter(|| tokio.block_on(one.run(&request, None)))
    });
    let one_warm = load_warm(&runtime, &middle_name);
    c.bench_function("one plugin call (warm instance, login-middle-name)", |b| {
        b.iter(|| tokio.block_on(one_warm.run(&request, None)))
    });

    // The floor: a strategy that does nothing, in the same isolated instance.
    let noop_plugin = [("00-noop", "importhook_noop_plugin.wasm")];
    let noop = load(&runtime, &noop_plugin);
    c.bench_function("floor: one call of a no-op plugin (fresh instance)", |b| {
        b.iter(|| tokio.block_on(noop.run(&request, None)))
    });
    let noop_warm = load_warm(&runtime, &noop_plugin);
    c.bench_function("floor: one call of a no-op plugin (warm instance)", |b| {
        b.iter(|| tokio.block_on(noop_warm.run(&request, None)))
    });
    // wasmtime's own share of a fresh instance: the same component, engine and pool, a new
    // store instantiated and dropped, with no call and none of importhook's per-call state.
    for (label, file) in [
        ("no-op", "importhook_noop_plugin.wasm"),
        ("login-middle-name", "login_middle_name.wasm"),
    ] {
        let bytes = std::fs::read(wasm_dir().join(file)).expect("plugin");
        let component = runtime.compile(&bytes).expect("compile");
        let mut linker = wasmtime::component::Linker::<()>::new(runtime.engine());
        linker
            .define_unknown_imports_as_traps(&component)
            .expect("linker");
        let pre = linker.instantiate_pre(&component).expect("pre");
        c.bench_function(
            &format!("wasmtime alone: instantiate and drop a store ({label}, no call)"),
            |b| {
                b.iter(|| {
                    let mut store = wasmtime::Store::new(runtime.engine(), ());
                    store.set_epoch_deadline(u64::MAX / 2);
                    tokio
                        .block_on(pre.instantiate_async(&mut store))
                        .expect("instantiate");
                    drop(store);
                })
            },
        );
    }
    c.bench_function("pipeline bookkeeping alone (no plugin)", |b| {
        let none = PluginSet::empty();
        b.iter(|| tokio.block_on(none.run(&request, None)))
    });

    let three = load(&runtime, &THREE);
    c.bench_function("pipeline of the three example strategies", |b| {
        b.iter(|| {
            let run = tokio.block_on(three.run(&request, None));
            assert!(!run.response().expect("answered").commands.is_empty());
            run
        })
    });
    let three_warm = load_warm(&runtime, &THREE);
    c.bench_function("pipeline of the three example strategies (warm)", |b| {
        b.iter(|| {
            let run = tokio.block_on(three_warm.run(&request, None));
            assert!(!run.response().expect("answered").commands.is_empty());
            run
        })
    });

    let started = Instant::now();
    let cold = Runtime::new(None, false).expect("runtime");
    let _ = load(&cold, &[("20-login-middle-name", "login_middle_name.wasm")]);
    eprintln!(
        "compile and load one plugin without cache: {:?}",
        started.elapsed()
    );
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
