//! Derives the SDK's `INTERFACE_VERSION` from `wit/importhook.wit`.

mod wit_version;

fn main() {
    wit_version::emit("wit/importhook.wit");
}
