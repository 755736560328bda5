//! The on-disk cache of compiled policies.
//!
//! Compiling a policy takes tens of milliseconds to seconds; loading a
//! precompiled one takes well under a millisecond. Entries are keyed by the
//! sha256 of the component and by everything about this build of the engine
//! that affects the machine code, so a new Counsel or a changed engine
//! configuration never picks up a stale entry.
//!
//! Loading machine code is only safe for code this process compiled, so each
//! entry carries the sha256 of its payload and is checked before it is used:
//! a truncated or corrupted file is discarded and rebuilt, never trusted.
//!
//! Two layers: a read-only one, looked at first (the image's policies,
//! compiled when the image was built by `counsel precompile`, so that new
//! pods start warm), and a writable one, where whatever is compiled is
//! stored. Nothing is ever written to, or removed from, the read-only layer.

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// Marks the start of every cache file, with the format version.
const MAGIC: &[u8] = b"counsel-compiled-policy/1\n";
const DIGEST_LEN: usize = 32;

/// Directories of compiled policies.
#[derive(Debug, Clone)]
pub struct Cache {
    /// Where compiled policies are stored.
    dir: Option<PathBuf>,
    /// Where precompiled policies are only read.
    read_only: Option<PathBuf>,
    engine_key: String,
}

/// Where a loaded policy's machine code came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompiledFrom {
    /// Compiled now from the component.
    Source,
    /// Read from the precompiled cache.
    Cache,
}

impl Cache {
    /// A cache storing in `dir`, reading `read_only` first, for code
    /// compiled by `engine`.
    pub fn new(
        dir: Option<PathBuf>,
        read_only: Option<PathBuf>,
        engine: &wasmtime::Engine,
    ) -> Cache {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        Cache {
            dir,
            read_only,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The file in `dir` holding the compiled form of the component with
    /// this sha256.
    pub fn path_in(&self, dir: &Path, component_sha256: &str) -> PathBuf {
        dir.join(format!("{component_sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled component, from the read-only layer or else the
    /// writable one, when a sound entry exists. A corrupted entry of the
    /// writable layer is removed (and logged) so that the caller compiles
    /// afresh; one of the read-only layer is only logged and passed over.
    pub fn load(&self, engine: &wasmtime::Engine, component_sha256: &str) -> Option<Component> {
        let from_read_only = self
            .read_only
            .as_deref()
            .and_then(|dir| load_entry(engine, &self.path_in(dir, component_sha256), false));
        from_read_only.or_else(|| {
            let dir = self.dir.as_deref()?;
            load_entry(engine, &self.path_in(dir, component_sha256), true)
        })
    }

    /// Stores a compiled component in the writable layer. Failing to write
    /// the cache only costs time on the next start, so it is logged, not
    /// returned.
    pub fn store(&self, component_sha256: &str, component: &Component) {
        let Some(dir) = self.dir.as_deref() else {
            return;
        };
        let path = self.path_in(dir, component_sha256);
        if let Err(error) = write(dir, &path, component) {
            tracing::warn!(path = %path.display(), %error, "could not write the compiled-policy cache");
        }
    }
}

/// The compiled component in `path`, if sound; an unsound entry is removed
/// when `removable`.
// Loading machine code is unsafe by nature: see the SAFETY comment inside.
#[allow(unsafe_code)]
fn load_entry(engine: &wasmtime::Engine, path: &Path, removable: bool) -> Option<Component> {
    let bytes = fs::read(path).ok()?;
    let discard = |what: &str, error: Option<String>| {
        tracing::warn!(
            path = %path.display(),
            error = error.unwrap_or_default(),
            "passing over {what} compiled-policy cache entry"
        );
        if removable {
            let _ = fs::remove_file(path);
        }
    };
    let Some(payload) = verified_payload(&bytes) else {
        discard("a corrupted", None);
        return None;
    };
    // SAFETY: the payload is byte for byte what `Component::serialize`
    // wrote for this engine configuration (checked by digest above), and
    // the cache directories are as trusted as the policy files themselves.
    match unsafe { Component::deserialize(engine, payload) } {
        Ok(component) => Some(component),
        Err(error) => {
            discard("an unusable", Some(format!("{error:#}")));
            None
        }
    }
}

/// Writes `component` to `path` in `dir`, atomically.
fn write(dir: &Path, path: &Path, component: &Component) -> std::io::Result<()> {
    let payload = component
        .serialize()
        .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
    fs::create_dir_all(dir)?;
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(MAGIC)?;
    file.write_all(&Sha256::digest(&payload))?;
    file.write_all(&payload)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The payload of a cache file whose digest matches it.
fn verified_payload(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    if rest.len() < DIGEST_LEN {
        return None;
    }
    let (digest, payload) = rest.split_at(DIGEST_LEN);
    (Sha256::digest(payload).as_slice() == digest).then_some(payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_intact_payload_is_returned() {
        let payload = b"machine code".to_vec();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&Sha256::digest(&payload));
        file.extend_from_slice(&payload);
        assert_eq!(verified_payload(&file), Some(&payload[..]));

        let mut flipped = file.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(verified_payload(&flipped), None);
        assert_eq!(verified_payload(&file[..MAGIC.len() + 10]), None);
        assert_eq!(verified_payload(b"something else"), None);
    }
}
