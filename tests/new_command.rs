//! `counsel new`: a CEL policy that passes its tests as generated, exactly
//! as README.md's newcomer path shows it (new, test, check), and a Rust
//! crate whose native unit tests pass as generated.

use crate::support::cli::{counsel, text};
use std::path::Path;
use std::process::Command;

#[test]
fn a_new_cel_policy_passes_its_tests_as_the_readme_shows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut shown = String::new();
    for (args, code) in [
        (&["new", "memory-limits", "--lang", "cel"][..], 0),
        (&["test", "memory-limits"][..], 0),
        (
            &[
                "check",
                "-c",
                "memory-limits/counsel.yaml",
                "-f",
                "memory-limits/examples/denied.yaml",
            ][..],
            1,
        ),
    ] {
        let output = counsel(dir.path(), args, None);
        let stdout = text(&output.stdout);
        assert_eq!(output.status.code(), Some(code), "{args:?}: {stdout}");
        shown.push_str(&format!("$ counsel {}\n{stdout}", args.join(" ")));
        if !shown.ends_with("\n\n") {
            shown.push('\n');
        }
    }
    let readme = Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md");
    let readme = std::fs::read_to_string(readme).expect("README.md");
    for block in shown.split("$ counsel ").filter(|b| !b.is_empty()) {
        let block = format!("$ counsel {}", block.trim_end());
        assert!(readme.contains(&block), "README.md should show:\n{block}");
    }

    // The suite the ops guide shows passes against the new policy too.
    let guide = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/operations.md");
    let guide = std::fs::read_to_string(guide).expect("docs/operations.md");
    let start = guide
        .find("# memory-limits.test.yaml\n")
        .expect("the guide's suite");
    let end = start + guide[start..].find("```").expect("its end");
    std::fs::write(
        dir.path().join("memory-limits/guide.test.yaml"),
        &guide[start..end],
    )
    .expect("write");
    let output = counsel(dir.path(), &["test", "memory-limits/guide.test.yaml"], None);
    assert_eq!(
        text(&output.stdout),
        "\
memory-limits/guide.test.yaml (memory-limits)
  pass  a container with a memory limit is allowed
  pass  an update that drops the limit is denied, and --fix=all sets the default

2 passed, 0 failed (2 cases in 1 suite)
"
    );

    // A second run of `new` does not overwrite the policy.
    let output = counsel(dir.path(), &["new", "memory-limits", "--lang", "cel"], None);
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: memory-limits already exists and is not empty; choose another --dir\n"
    );
    let output = counsel(dir.path(), &["new", "Memory Limits", "--lang", "cel"], None);
    assert_eq!(
        text(&output.stderr),
        "error: \"Memory Limits\" cannot name a policy: use lower case letters, digits and '-', starting with a letter (e.g. memory-limits)\n"
    );
}

/// The Rust crate is made outside the policies workspace (`--dir`, `--sdk`)
/// and its native tests run with the policies' lock file and target
/// directory, so nothing is fetched or built again but the crate.
#[test]
fn a_new_rust_policy_passes_its_native_tests_as_generated() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let sdk = root.join("policies/sdk");
    let output = counsel(
        dir.path(),
        &[
            "new",
            "team-label",
            "--lang",
            "rust",
            "--dir",
            "team-label",
            "--sdk",
            sdk.to_str().expect("UTF-8 path"),
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "\
created team-label/Cargo.toml
created team-label/src/lib.rs
created team-label/counsel.yaml
created team-label/team-label.test.yaml

next: edit team-label/src/lib.rs, then
  (cd team-label && cargo test)
  policies/build.sh team-label
  counsel test team-label
"
    );
    let crate_dir = dir.path().join("team-label");
    let manifest = std::fs::read_to_string(crate_dir.join("Cargo.toml")).expect("Cargo.toml");
    let canonical = sdk.canonicalize().expect("the SDK");
    assert!(
        manifest.contains(&format!(
            "counsel-policy = {{ path = \"{}\" }}",
            canonical.display()
        )),
        "{manifest}"
    );
    std::fs::copy(
        root.join("policies/Cargo.lock"),
        crate_dir.join("Cargo.lock"),
    )
    .expect("lock");
    let target = std::env::var_os("COUNSEL_POLICIES_NATIVE_TARGET").map_or_else(
        || {
            std::env::home_dir()
                .expect("a home directory")
                .join(".cache/counsel/policies-native-target")
        },
        Into::into,
    );
    let tests = Command::new("cargo")
        .args(["test", "--offline", "--quiet"])
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .expect("cargo runs");
    let stdout = text(&tests.stdout);
    assert!(tests.status.success(), "{stdout}{}", text(&tests.stderr));
    assert!(
        stdout.contains("test result: ok. 3 passed; 0 failed"),
        "{stdout}"
    );
}
