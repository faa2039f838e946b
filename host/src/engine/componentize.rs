//! What a plugin file is, and turning a core module into a component. Rust plugins built with
//! the SDK for `wasm32-unknown-unknown` are core modules that carry their component type in a
//! custom section (wit-bindgen puts it there): `wit-component` wraps them into a component
//! with no WASI imports. A file that is neither says plainly what it is instead.

use std::borrow::Cow;

use anyhow::{Context, bail};

const WASM_MAGIC: &[u8; 4] = b"\0asm";
/// Version and layer of a core module (`01 00 00 00`).
const CORE_MODULE: [u8; 4] = [1, 0, 0, 0];
/// Version and layer of a component (`0d 00 01 00`).
const COMPONENT: [u8; 4] = [0x0d, 0, 1, 0];

/// The component `bytes` is, or becomes once its core module is wrapped.
pub fn to_component(bytes: &[u8]) -> anyhow::Result<Cow<'_, [u8]>> {
    let kind = kind(bytes);
    if matches!(kind, Kind::Component | Kind::CoreModule) && is_truncated(bytes) {
        bail!(
            "it is truncated: the file ends ({} bytes) in the middle of a section, so a copy or download was cut short; build or copy it again",
            bytes.len()
        );
    }
    match kind {
        Kind::Component => Ok(Cow::Borrowed(bytes)),
        Kind::CoreModule => {
            if !has_component_type(bytes) {
                bail!(
                    "it is a core wasm module without a component type: build it with importhook-sdk (or wit-bindgen) against importhook:plugin, for wasm32-unknown-unknown or wasm32-wasip2"
                );
            }
            let component = wit_component::ComponentEncoder::default()
                .validate(true)
                .module(bytes)
                .and_then(|encoder| encoder.encode())
                .context("cannot turn the core module into a component")?;
            Ok(Cow::Owned(component))
        }
        Kind::Other(what) => bail!("it is not a WebAssembly plugin: {what}"),
    }
}

/// What `head` (a file's first bytes) is, for a file that is not named `*.wasm`.
pub fn describe(head: &[u8]) -> String {
    match kind(head) {
        Kind::Component | Kind::CoreModule => {
            "a WebAssembly binary not named *.wasm: a plugin is `<stem>.wasm`".to_owned()
        }
        Kind::Other(what) => format!("not a plugin: {what}"),
    }
}

enum Kind {
    Component,
    CoreModule,
    Other(&'static str),
}

fn kind(bytes: &[u8]) -> Kind {
    match bytes.get(..8) {
        Some(head) if &head[..4] == WASM_MAGIC && head[4..] == COMPONENT => Kind::Component,
        Some(head) if &head[..4] == WASM_MAGIC && head[4..] == CORE_MODULE => Kind::CoreModule,
        Some(head) if &head[..4] == WASM_MAGIC => {
            Kind::Other("a wasm binary of an unknown version")
        }
        Some(head) if head.starts_with(b"\x7fELF") => {
            Kind::Other("a native ELF library or program (build for a wasm32 target)")
        }
        Some(head) if head.starts_with(b"MZ") => Kind::Other("a Windows executable or DLL"),
        Some(head)
            if head.starts_with(&[0xcf, 0xfa, 0xed, 0xfe])
                || head.starts_with(&[0xca, 0xfe, 0xba, 0xbe]) =>
        {
            Kind::Other("a macOS (Mach-O) binary")
        }
        Some(head) if head.starts_with(b"(module") || head.starts_with(b"(component") => {
            Kind::Other("WebAssembly text; compile it to binary first")
        }
        Some(_) => Kind::Other("not a wasm binary"),
        None => Kind::Other("too short to be a wasm binary"),
    }
}

/// Whether the binary ends before a section it declares does (every other malformed binary is
/// the compiler's to describe).
fn is_truncated(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0)
        .parse_all(bytes)
        .find_map(Result::err)
        .is_some_and(|e| e.message().contains("unexpected end"))
}

/// Whether a core module has a `component-type*` custom section.
fn has_component_type(bytes: &[u8]) -> bool {
    wasmparser::Parser::new(0).parse_all(bytes).any(|payload| {
        matches!(payload, Ok(wasmparser::Payload::CustomSection(section))
            if section.name().starts_with("component-type"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(bytes: &[u8]) -> String {
        format!("{:#}", to_component(bytes).expect_err("refused"))
    }

    #[test]
    fn files_that_are_not_plugins_say_what_they_are() {
        assert!(refusal(b"\x7fELF\x02\x01\x01\0\0\0\0\0").contains("native ELF"));
        assert!(refusal(b"(module)\n  ").contains("WebAssembly text"));
        assert!(refusal(b"hello world!").contains("not a wasm binary"));
        assert!(refusal(b"\0asm").contains("too short"));
        // An empty core module: valid wasm, but no component type.
        let empty_module = [0, b'a', b's', b'm', 1, 0, 0, 0];
        assert!(refusal(&empty_module).contains("without a component type"));
    }

    #[test]
    fn a_file_cut_short_is_said_to_be_truncated() {
        // A custom section that declares 100 bytes, of which the file holds 6.
        let mut module = vec![0, b'a', b's', b'm', 1, 0, 0, 0, 0, 100, 4];
        module.extend_from_slice(b"name\0\0");
        let why = refusal(&module);
        assert!(
            why.contains("truncated") && why.contains("17 bytes"),
            "{why}"
        );
        let mut component = vec![0, b'a', b's', b'm', 0x0d, 0, 1, 0, 0, 100, 4];
        component.extend_from_slice(b"name");
        assert!(refusal(&component).contains("truncated"));
        // Complete but useless: not called truncated.
        assert!(!refusal(&[0, b'a', b's', b'm', 1, 0, 0, 0]).contains("truncated"));
    }

    #[test]
    fn files_of_any_name_are_described() {
        assert!(describe(b"\x7fELF\x02\x01\x01\0").contains("native ELF"));
        assert!(describe(b"MZ\x90\0\x03\0\0\0").contains("Windows"));
        assert!(describe(&[0xcf, 0xfa, 0xed, 0xfe, 7, 0, 0, 1]).contains("Mach-O"));
        assert!(describe(&[0, b'a', b's', b'm', 1, 0, 0, 0]).contains("named *.wasm"));
    }

    #[test]
    fn components_pass_through_unchanged() {
        let header = [0, b'a', b's', b'm', 0x0d, 0, 1, 0];
        assert!(matches!(to_component(&header), Ok(Cow::Borrowed(_))));
    }
}
