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

use std::fs;
use std::hash::{Hash, Hasher};
use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;

/// Marks the start of every cache file, with the format version.
const MAGIC: &[u8] = b"counsel-compiled-policy/1\n";
const DIGEST_LEN: usize = 32;

/// A directory of compiled policies.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
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
    /// A cache in `dir` for code compiled by `engine`.
    pub fn new(dir: PathBuf, engine: &wasmtime::Engine) -> Cache {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut hasher);
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        Cache {
            dir,
            engine_key: format!("{:016x}", hasher.finish()),
        }
    }

    /// The directory the cache lives in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file holding the compiled form of the component with this sha256.
    pub fn path_for(&self, component_sha256: &str) -> PathBuf {
        self.dir
            .join(format!("{component_sha256}-{}.cwasm", self.engine_key))
    }

    /// The compiled component, when a sound entry exists. A corrupted entry
    /// is removed (and logged) so that the caller compiles afresh.
    pub fn load(&self, engine: &wasmtime::Engine, component_sha256: &str) -> Option<Component> {
        let path = self.path_for(component_sha256);
        let bytes = fs::read(&path).ok()?;
        let Some(payload) = verified_payload(&bytes) else {
            tracing::warn!(path = %path.display(), "discarding a corrupted compiled-policy cache entry");
            let _ = fs::remove_file(&path);
            return None;
        };
        // SAFETY: the payload is byte for byte what `Component::serialize`
        // wrote for this engine configuration (checked by digest above), and
        // the cache directory is as trusted as the policy files themselves.
        match unsafe { Component::deserialize(engine, payload) } {
            Ok(component) => Some(component),
            Err(error) => {
                tracing::warn!(path = %path.display(), error = %format!("{error:#}"), "discarding an unusable compiled-policy cache entry");
                let _ = fs::remove_file(&path);
                None
            }
        }
    }

    /// Stores a compiled component. Failing to write the cache only costs
    /// time on the next start, so it is logged, not returned.
    pub fn store(&self, component_sha256: &str, component: &Component) {
        let path = self.path_for(component_sha256);
        if let Err(error) = self.write(&path, component) {
            tracing::warn!(path = %path.display(), %error, "could not write the compiled-policy cache");
        }
    }

    fn write(&self, path: &Path, component: &Component) -> std::io::Result<()> {
        let payload = component
            .serialize()
            .map_err(|e| std::io::Error::other(format!("{e:#}")))?;
        fs::create_dir_all(&self.dir)?;
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)?;
        file.write_all(MAGIC)?;
        file.write_all(&Sha256::digest(&payload))?;
        file.write_all(&payload)?;
        file.as_file().sync_all()?;
        file.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
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
