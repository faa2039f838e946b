//! Write [importhook](https://example.invalid/importhook) conflict strategies in Rust.
//!
//! A strategy is a type implementing [`Strategy`], exported with [`export_strategy!`] and
//! built with `cargo build --target wasm32-unknown-unknown --release` (no WASI: the host turns
//! the module into a component when it loads it). Its logic is plain Rust, so it is
//! unit-tested natively with `cargo test`: build a [`Request`] with [`Request::builder`] (or
//! from a body Okta sent, with [`Request::from_okta_json`]) and look at the [`Outcome`].
//!
//! ```
//! use importhook_sdk::{Config, Error, Outcome, Request, Strategy};
//!
//! struct Uppercase;
//!
//! impl Strategy for Uppercase {
//!     fn transform(request: &Request<'_>, _config: &Config) -> Result<Outcome, Error> {
//!         let mut outcome = Outcome::new();
//!         if let Some(last) = request.user().text("lastName") {
//!             outcome = outcome.set_user("lastName", last.to_uppercase());
//!         }
//!         Ok(outcome)
//!     }
//! }
//!
//! // importhook_sdk::export_strategy!(Uppercase);   // in the plugin crate
//!
//! let request = Request::builder().user("lastName", "Smith").build();
//! let outcome = Uppercase::transform(&request, &Config::default()).unwrap();
//! assert_eq!(outcome.user_update("lastName").and_then(|v| v.as_text()), Some("SMITH"));
//! ```
#![deny(missing_docs)]

// The generated bindings name this crate by its public path, also from inside it.
extern crate self as importhook_sdk;

#[cfg(not(target_arch = "wasm32"))]
mod builder;
mod config;
pub mod directory;
mod error;
#[cfg(target_arch = "wasm32")]
mod guest;
#[cfg(not(target_arch = "wasm32"))]
mod json;
pub mod log;
pub mod login;
#[cfg(not(target_arch = "wasm32"))]
mod okta_json;
mod outcome;
mod request;
pub mod state;

#[cfg(not(target_arch = "wasm32"))]
pub use builder::RequestBuilder;
pub use config::Config;
pub use error::Error;
pub use outcome::Outcome;
pub use request::{Action, Profile, ProfileKind, Request, Source};

/// The bindings generated from `wit/importhook.wit` (the contract with the host).
#[allow(missing_docs, unsafe_code, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        world: "granted-plugin",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__export_plugin_world",
        default_bindings_module: "importhook_sdk::bindings",
        runtime_path: "importhook_sdk::__private::wit_bindgen::rt",
        additional_derives: [PartialEq],
    });
}

pub use bindings::importhook::plugin::types::{
    Application, Attribute, Decision, Job, Scalar, Value,
};

/// The WIT package version this SDK builds against (read from `wit/importhook.wit`).
pub const INTERFACE_VERSION: &str = env!("IMPORTHOOK_WIT_VERSION");

/// A conflict strategy. By default the host creates a fresh instance for every call: nothing
/// survives from one imported user to the next. A plugin the operator runs `warm` keeps its
/// instance between calls, so statics may survive; a strategy must not depend on either.
pub trait Strategy {
    /// Decides what to change for one imported user. `request` already holds the changes of the
    /// strategies that ran before this one. An `Err` fails this call; the host's `on_error`
    /// policy for the plugin decides what happens. Its text is shown by `importhook try`,
    /// logged by `serve` only when the operator sets `log_plugin_messages = true`, and never
    /// sent to Okta. `?` works on any error ([`Error`]).
    fn transform(request: &Request<'_>, config: &Config) -> Result<Outcome, Error>;

    /// Checks the plugin's `[config]` once, when the host loads the plugin (and at
    /// `importhook check`): return `Err` for a wrong type, a misspelled key or a value out of
    /// range, and the plugin is refused with that text instead of quietly using a default.
    /// Accepts everything unless overridden.
    fn validate_config(config: &Config) -> Result<(), Error> {
        let _ = config;
        Ok(())
    }
}

/// Exports a [`Strategy`] as the plugin's `importhook:plugin/strategy` implementation.
///
/// Call it once, at the top level of the plugin crate (`crate-type = ["cdylib", "rlib"]`). It
/// expands to nothing on native targets, so `cargo test` runs the strategy as plain Rust.
#[macro_export]
macro_rules! export_strategy {
    ($strategy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __ImporthookExport;
            impl $crate::bindings::exports::importhook::plugin::strategy::Guest for __ImporthookExport {
                fn transform(
                    request: &$crate::bindings::importhook::plugin::types::Request,
                ) -> ::core::result::Result<$crate::bindings::importhook::plugin::types::Outcome, ::std::string::String> {
                    $crate::__private::run::<$strategy>(request)
                }

                fn validate_config() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__private::validate_config::<$strategy>()
                }
            }
            $crate::bindings::__export_plugin_world!(__ImporthookExport with_types_in $crate::bindings);
        };
    };
}

#[doc(hidden)]
pub mod __private {
    pub use wit_bindgen;

    /// Glue between the WIT export and a [`crate::Strategy`].
    #[cfg(target_arch = "wasm32")]
    pub fn run<S: crate::Strategy>(
        request: &crate::bindings::importhook::plugin::types::Request,
    ) -> Result<crate::bindings::importhook::plugin::types::Outcome, String> {
        crate::guest::install_panic_hook();
        let source = crate::guest::HostRequest(request);
        let request = crate::Request::from_source(&source);
        let config = crate::Config::from_host();
        S::transform(&request, &config)
            .map(crate::Outcome::into_wit)
            .map_err(crate::Error::into_message)
    }

    /// Glue between the WIT `validate-config` export and [`crate::Strategy::validate_config`].
    #[cfg(target_arch = "wasm32")]
    pub fn validate_config<S: crate::Strategy>() -> Result<(), String> {
        crate::guest::install_panic_hook();
        S::validate_config(&crate::Config::from_host()).map_err(crate::Error::into_message)
    }

    /// Okta JSON as a plugin value, by the same mapping the host applies.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn value_from_json(value: &serde_json::Value) -> crate::Value {
        crate::json::to_value(value)
    }
}
