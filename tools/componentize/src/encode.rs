//! Core module → Counsel policy component.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result, bail};
use wit_component::ComponentEncoder;

/// Reads the core module at `module`, checks it, encodes it as a component
/// (its WIT world comes from the `component-type` section wit-bindgen put in
/// it) and writes the component to `out` atomically. Returns its size.
pub fn componentize(module: &Path, out: &Path) -> Result<usize> {
    let bytes =
        fs::read(module).with_context(|| format!("cannot read the module {}", module.display()))?;
    let component =
        encode(&bytes).with_context(|| format!("cannot encode {}", module.display()))?;
    write_atomically(out, &component)?;
    Ok(component.len())
}

/// Encodes a core module's bytes as a component.
pub fn encode(bytes: &[u8]) -> Result<Vec<u8>> {
    if wasmparser::Parser::is_component(bytes) {
        bail!("it is already a component; give the core module cargo built");
    }
    if !wasmparser::Parser::is_core_wasm(bytes) {
        bail!("it is not a WebAssembly module (no `\\0asm` header of a core module)");
    }
    wasmparser::Validator::new()
        .validate_all(bytes)
        .context("it is not a valid WebAssembly module")?;
    // Without wit-bindgen's section the encoder would happily produce an
    // empty component; refuse instead.
    if !has_component_type(bytes)? {
        bail!(
            "it has no `component-type` section, so it does not describe a component (was it \
             built from a crate that calls counsel_policy::export_policy!?)"
        );
    }
    ComponentEncoder::default()
        .validate(true)
        .module(bytes)
        .context("wit-component could not read its component type")?
        .encode()
        .context("wit-component could not turn it into a component")
}

/// Whether the module carries a `component-type*` custom section.
fn has_component_type(bytes: &[u8]) -> Result<bool> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        if let wasmparser::Payload::CustomSection(section) =
            payload.context("it is not a valid WebAssembly module")?
            && section.name().starts_with("component-type")
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Writes `bytes` to `path` through a temporary file in the same directory,
/// so a reader never sees half a file and a failed run leaves the old one.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let name = path
        .file_name()
        .with_context(|| format!("{} names no file", path.display()))?;
    let temporary = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let written = fs::write(&temporary, bytes)
        .and_then(|()| fs::rename(&temporary, path))
        .with_context(|| format!("cannot write {}", path.display()));
    if written.is_err() {
        // Best effort: the error above is what matters.
        let _ = fs::remove_file(&temporary);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_core_module() {
        let err = encode(b"hello").unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is not a WebAssembly module (no `\\0asm` header of a core module)"
        );
        // The 8-byte header of an empty component.
        let component = b"\0asm\x0d\0\x01\0";
        assert_eq!(
            encode(component).unwrap_err().to_string(),
            "it is already a component; give the core module cargo built"
        );
    }

    #[test]
    fn refuses_invalid_modules() {
        // A valid header followed by a truncated section.
        let err = encode(b"\0asm\x01\0\0\0\x01\x05").unwrap_err();
        assert_eq!(err.to_string(), "it is not a valid WebAssembly module");
    }

    #[test]
    fn refuses_modules_without_a_world() {
        // The smallest valid core module: header only.
        let err = encode(b"\0asm\x01\0\0\0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "it has no `component-type` section, so it does not describe a component (was it \
             built from a crate that calls counsel_policy::export_policy!?)"
        );
    }

    #[test]
    fn writes_atomically_and_replaces() {
        let dir = std::env::temp_dir().join(format!("componentize-test-{}", std::process::id()));
        let path = dir.join("nested/out.wasm");
        write_atomically(&path, b"one").unwrap();
        write_atomically(&path, b"two").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"two");
        let leftovers: Vec<_> = fs::read_dir(dir.join("nested"))
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["out.wasm"]);
        fs::remove_dir_all(&dir).unwrap();
    }
}
