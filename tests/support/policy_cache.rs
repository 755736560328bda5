//! One cache of compiled policies for the whole test run, in cargo's
//! target directory: every `counsel` a test spawns, and every in-process
//! server, loads the bundled policies from it instead of compiling them cold
//! (and nothing is written to the user's `~/.cache`). Test processes share it
//! safely: entries are written atomically and checked before they are used
//! (`src/engine/cache.rs`).

use std::path::{Path, PathBuf};

/// The shared cache directory.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("compiled-policies")
}
