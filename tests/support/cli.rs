//! The `counsel` binary as a developer runs it: in a directory, with
//! arguments and standard input, reading the test run's compiled-policy
//! cache and no `COUNSEL_CONFIG` from the environment of the tests.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::policy_cache;

/// The `counsel` binary under test: cargo's, or `COUNSEL_BIN` when set (a
/// copy of it, for machines where several checkouts share one target
/// directory and so one `target/release/counsel`).
pub fn counsel_binary() -> PathBuf {
    std::env::var_os("COUNSEL_BIN").map_or_else(|| env!("CARGO_BIN_EXE_counsel").into(), Into::into)
}

/// Runs `counsel` with `args` in `dir`, feeding `stdin` (none: an empty
/// standard input), and waits for it.
pub fn counsel(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(counsel_binary())
        .args(args)
        .current_dir(dir)
        .env("COUNSEL_CACHE_DIR", policy_cache::dir())
        .env_remove("COUNSEL_CONFIG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("counsel runs");
    let mut input = child.stdin.take().expect("stdin");
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).expect("write stdin");
    }
    drop(input);
    child.wait_with_output().expect("counsel finishes")
}

/// A temporary directory holding `entries` (relative path, text).
pub fn files(entries: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in entries {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }
    dir
}

/// Output bytes as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}
