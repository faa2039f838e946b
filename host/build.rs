//! Derives the host's `INTERFACE_VERSION` from the SDK's WIT file, with the SDK's own reader.

#[path = "../plugin-sdk/wit_version.rs"]
mod wit_version;

fn main() {
    wit_version::emit("../plugin-sdk/wit/importhook.wit");
}
