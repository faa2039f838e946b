//! The generated bindings of `wit/importhook.wit` (the contract with the host), and what
//! [`crate::export_strategy!`] names. Hidden: only the SDK's conversions name these types, and a
//! strategy sees the SDK's own, so the contract can change without changing them.

pub use wit_bindgen;

/// The bindings generated from `wit/importhook.wit`.
#[allow(missing_docs, unsafe_code, unreachable_pub, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "granted-plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "importhook_sdk::__private::bindings",
        runtime_path: "importhook_sdk::__private::wit_bindgen::rt",
    });
}

pub use bindings::exports::importhook::plugin::strategy::Guest;
pub use bindings::importhook::plugin::types::{Outcome as WitOutcome, Request as WitRequest};
