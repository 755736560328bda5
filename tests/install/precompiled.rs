//! New pods start warm: the image compiles the bundled policies when it is
//! built (`counsel precompile`) into a read-only directory, and `counsel
//! serve --precompiled-dir` loads them from there instead of compiling.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;

use super::counsel_process::CounselProcess;
use crate::support::cli::counsel;

/// Every file in `dir`, by name, with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return BTreeMap::new();
    };
    entries
        .map(|entry| {
            let path = entry.expect("entry").path();
            let name = path
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&path).expect("readable"))
        })
        .collect()
}

/// `(policy, compiled_from)` of every "policy loaded" line.
fn loaded(counsel: &CounselProcess) -> Vec<(String, String)> {
    counsel
        .log_lines()
        .iter()
        .filter(|line| line["fields"]["message"] == "policy loaded")
        .map(|line| {
            let field = |name: &str| line["fields"][name].as_str().unwrap_or_default().to_owned();
            (field("policy"), field("compiled_from"))
        })
        .collect()
}

#[test]
fn serve_loads_precompiled_policies_from_a_read_only_directory_and_compiles_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("compiled");
    let shown = out.display().to_string();
    let precompiled = counsel(dir.path(), &["precompile", "--out", &shown], None);
    assert_eq!(precompiled.status.code(), Some(0));
    assert_eq!(
        String::from_utf8_lossy(&precompiled.stdout),
        format!("pod-security: compiled into {shown}\nworkload-hygiene: compiled into {shown}\n")
    );
    let again = counsel(dir.path(), &["precompile", "--out", &shown], None);
    assert_eq!(
        String::from_utf8_lossy(&again.stdout),
        format!(
            "pod-security: already compiled into {shown}\n\
             workload-hygiene: already compiled into {shown}\n"
        )
    );
    // As in the image: read-only, for everyone.
    let before = files(&out);
    assert_eq!(before.len(), 2, "{:?}", before.keys());
    for name in before.keys() {
        std::fs::set_permissions(out.join(name), std::fs::Permissions::from_mode(0o444))
            .expect("chmod");
    }
    std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o555)).expect("chmod");

    // Each start with a cache of its own, empty.
    let debug = ("COUNSEL_LOG", "info,counsel=debug");
    let (warm_cache, cold_cache) = (dir.path().join("warm"), dir.path().join("cold"));
    let warm = CounselProcess::start_with(
        None,
        &[],
        &[
            debug,
            ("COUNSEL_PRECOMPILED_DIR", shown.as_str()),
            ("COUNSEL_CACHE_DIR", &warm_cache.display().to_string()),
        ],
    );
    assert_eq!(
        loaded(&warm),
        [
            ("pod-security".to_owned(), "Cache".to_owned()),
            ("workload-hygiene".to_owned(), "Cache".to_owned()),
        ],
        "{}",
        warm.log()
    );
    // Nothing compiled, so nothing stored; the precompiled files untouched.
    assert_eq!(files(&warm_cache), BTreeMap::new());
    assert_eq!(files(&out), before);
    drop(warm);

    // Without them, the same start compiles both and stores them.
    let cold = CounselProcess::start_with(
        None,
        &[],
        &[
            debug,
            ("COUNSEL_CACHE_DIR", &cold_cache.display().to_string()),
        ],
    );
    assert_eq!(
        loaded(&cold),
        [
            ("pod-security".to_owned(), "Source".to_owned()),
            ("workload-hygiene".to_owned(), "Source".to_owned()),
        ],
        "{}",
        cold.log()
    );
    assert_eq!(files(&cold_cache).len(), 2);
}
