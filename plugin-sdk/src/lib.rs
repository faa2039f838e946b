//! Write importhook conflict strategies in Rust.
//!
//! A strategy is a type implementing [`Strategy`], exported with [`export_strategy!`] and
//! built with `cargo build --target wasm32-unknown-unknown --release` (no WASI: the host turns
//! the module into a component when it loads it). Its logic is plain Rust, so it is
//! unit-tested natively with `cargo test`: build a [`Request`] with [`Request::builder`] (or
//! from a body Okta sent, with [`Request::from_okta_json`]) and look at the [`Outcome`].
//!
//! Its `[config]` table is read into a type of its own ([`Strategy::Config`]) with serde, and
//! checked when the host loads the plugin: a key or a type it does not expect refuses the
//! plugin with serde's words.
//!
//! Every type here is the SDK's own: the generated bindings of the WIT contract stay private,
//! so the contract can grow without breaking a strategy's code.
//!
//! ```
//! use importhook_sdk::{Error, Outcome, Request, Strategy, Value, load_config};
//!
//! #[derive(serde::Deserialize, Default)]
//! #[serde(default, deny_unknown_fields)]
//! struct Settings {
//!     attribute: Option<String>,
//! }
//!
//! struct Uppercase;
//!
//! impl Strategy for Uppercase {
//!     type Config = Settings;
//!
//!     fn transform(request: &Request, config: &Settings) -> Result<Outcome, Error> {
//!         let attribute = config.attribute.as_deref().unwrap_or("lastName");
//!         let mut outcome = Outcome::new();
//!         if let Some(value) = request.user().text(attribute) {
//!             outcome = outcome.set_user(attribute, value.to_uppercase());
//!         }
//!         Ok(outcome)
//!     }
//! }
//!
//! // importhook_sdk::export_strategy!(Uppercase);   // in the plugin crate
//!
//! let request = Request::builder().user("lastName", "Smith").build();
//! let outcome = Uppercase::transform(&request, &Settings::default()).unwrap();
//! assert_eq!(outcome.user_update("lastName").and_then(Value::as_text), Some("SMITH"));
//! assert!(load_config::<Uppercase>([("atribute", Value::from("x"))]).is_err());
//! ```
#![deny(missing_docs)]

// The generated bindings name this crate by its public path, also from inside it.
extern crate self as importhook_sdk;

#[cfg_attr(
    not(all(target_arch = "wasm32", feature = "allocator")),
    allow(dead_code)
)]
mod alloc;
#[cfg(not(target_arch = "wasm32"))]
mod builder;
mod config;
pub mod directory;
mod error;
#[cfg(not(target_arch = "wasm32"))]
mod json;
pub mod log;
pub mod login;
#[cfg(not(target_arch = "wasm32"))]
mod okta_json;
mod outcome;
mod request;
mod source;
pub mod state;
mod strategy;
mod value;

#[cfg(not(target_arch = "wasm32"))]
pub use builder::RequestBuilder;
pub use config::{NoConfig, load_config};
pub use error::Error;
pub use outcome::Outcome;
pub use request::{Profile, Request};
pub use source::{Action, ProfileKind, Source};
pub use strategy::Strategy;
pub use value::{Application, Attribute, Decision, Job, Scalar, Value};

/// The WIT package version this SDK builds against (read from `wit/importhook.wit`).
pub const INTERFACE_VERSION: &str = env!("IMPORTHOOK_WIT_VERSION");

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
            impl $crate::__private::Guest for __ImporthookExport {
                fn transform(
                    request: &$crate::__private::WitRequest,
                ) -> ::core::result::Result<$crate::__private::WitOutcome, ::std::string::String> {
                    $crate::__guest::run::<$strategy>(request)
                }

                fn validate_config() -> ::core::result::Result<(), ::std::string::String> {
                    $crate::__guest::validate_config::<$strategy>()
                }
            }
            $crate::__private::bindings::__export_plugin_world!(__ImporthookExport with_types_in $crate::__private::bindings);
        };
    };
}

/// What [`export_strategy!`] expands to needs; not part of the API.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The glue [`export_strategy!`] calls; not part of the API.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[path = "guest.rs"]
pub mod __guest;

/// Okta JSON as a plugin value, by the same mapping the host applies (numbers typed only when
/// the type prints back what Okta sent). For hosts that run strategies natively.
#[cfg(not(target_arch = "wasm32"))]
pub fn value_from_json(value: &serde_json::Value) -> Value {
    json::to_value(value)
}
