//! What an SDK plugin imports from the host: only the functions its strategy reads (and the
//! three the SDK's glue always uses). Every import costs each fresh instance its wiring
//! (BENCHMARKS.md, "Seventh pass"), so a plugin that imported the whole request API, as one did
//! when the SDK read the host's request through a trait object, paid for fifteen.

mod common;

use std::collections::BTreeSet;

use common::plugin_file;

/// The function imports of a core module (the SDK builds plugins as core modules for
/// `wasm32-unknown-unknown`; the host componentizes them).
fn function_imports(crate_name: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(plugin_file(crate_name)).expect("the plugin is built");
    let mut names = BTreeSet::new();
    for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
        if let wasmparser::Payload::ImportSection(section) = payload.expect("a valid module") {
            for import in section.into_imports() {
                let import = import.expect("a valid import");
                if matches!(import.ty, wasmparser::TypeRef::Func(_)) {
                    names.insert(import.name.to_owned());
                }
            }
        }
    }
    names
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| (*n).to_owned()).collect()
}

/// The SDK's glue in every plugin: the request resource's drop, the panic message and the
/// plugin's `[config]`.
const GLUE: [&str; 3] = ["[resource-drop]request", "panicked", "entries"];

#[test]
fn each_example_plugin_imports_only_what_its_strategy_reads() {
    let expected = [
        // The login's conflict, rewritten from the app user's email.
        (
            "normalize-login",
            &["[method]request.get", "[method]request.action"][..],
        ),
        // The action and the matches Okta found.
        (
            "link-single-match",
            &["[method]request.action", "[method]request.matches"][..],
        ),
        // The conflict list, the profiles and the directory's answer for a login.
        (
            "login-middle-name",
            &[
                "[method]request.get",
                "[method]request.action",
                "[method]request.conflicts",
                "login-exists",
            ][..],
        ),
    ];
    for (plugin, reads) in expected {
        let mut want = set(&GLUE);
        want.extend(set(reads));
        assert_eq!(function_imports(plugin), want, "{plugin}");
    }
}
