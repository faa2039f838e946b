//! importhook: an Okta User Import Inline Hook that runs sandboxed WebAssembly conflict
//! strategies. `main.rs` only calls [`cli::main`].

pub mod admin;
pub mod app;
pub mod auth;
pub mod body_memory;
pub mod cli;
pub mod config;
pub mod conn;
pub mod directory;
pub mod doctor;
pub mod engine;
pub mod fdlimit;
pub mod hook;
#[cfg(test)]
mod import_cycles;
pub mod logging;
pub mod metrics;
pub mod oauth;
pub mod okta;
pub mod outbound;
pub mod preview;
pub mod pull;
pub mod regular_file;
pub mod reload;
pub mod scaffold;
pub mod server;
pub mod service;
pub mod slots;
pub mod state;
pub mod tls;
pub mod tomlerr;
pub mod tryout;
pub mod watch;
