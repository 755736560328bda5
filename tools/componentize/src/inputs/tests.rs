use super::*;
use crate::verify::{Finding, verify};
use std::sync::atomic::{AtomicUsize, Ordering};

/// A throwaway checkout with one policy `demo`, removed on drop.
struct Fixture {
    root: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let root = std::env::temp_dir().join(format!(
            "counsel-componentize-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let fixture = Fixture { root };
        for (path, content) in [
            ("policies/Cargo.toml", "[workspace]\n"),
            ("policies/Cargo.lock", "version = 4\n"),
            ("policies/build.sh", "#!/bin/sh\n"),
            (
                "policies/sdk/Cargo.toml",
                "[package]\nname = \"counsel-policy\"\n",
            ),
            ("policies/sdk/src/lib.rs", "// sdk\n"),
            (
                "policies/edit/Cargo.toml",
                "[package]\nname = \"counsel-edit\"\n",
            ),
            ("policies/edit/src/lib.rs", "// edit\n"),
            (
                "policies/contract/Cargo.toml",
                "[package]\nname = \"counsel-contract\"\n",
            ),
            ("policies/contract/src/lib.rs", "// contract\n"),
            ("policies/demo/Cargo.toml", "[package]\nname = \"demo\"\n"),
            ("policies/demo/src/lib.rs", "// demo\n"),
            ("policies/demo/src/rules/one.rs", "// one\n"),
            ("policies/demo/tests/it.rs", "// test\n"),
            ("policies/demo/.notes.swp", "editor junk"),
            ("policies/other/Cargo.toml", "[package]\nname = \"other\"\n"),
            ("policies/other/src/lib.rs", "// other\n"),
            ("wit/counsel.wit", "package counsel:policy@0.1.0;\n"),
            ("README.md", "not an input\n"),
        ] {
            fixture.write(path, content);
        }
        fixture
    }

    fn write(&self, rel: &str, content: &str) {
        let path = self.root.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, content).unwrap();
    }

    fn checkout(&self) -> Checkout {
        Checkout::new(&self.root.join("policies")).unwrap()
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.root);
    }
}

#[test]
fn inputs_are_the_policy_sdk_contract_edit_workspace_and_wit() {
    let fixture = Fixture::new();
    let names: Vec<String> = fixture
        .checkout()
        .input_files("demo")
        .unwrap()
        .into_iter()
        .map(|(rel, _)| rel)
        .collect();
    assert_eq!(
        names,
        [
            "policies/Cargo.lock",
            "policies/Cargo.toml",
            "policies/build.sh",
            "policies/contract/Cargo.toml",
            "policies/contract/src/lib.rs",
            "policies/demo/Cargo.toml",
            "policies/demo/src/lib.rs",
            "policies/demo/src/rules/one.rs",
            "policies/edit/Cargo.toml",
            "policies/edit/src/lib.rs",
            "policies/sdk/Cargo.toml",
            "policies/sdk/src/lib.rs",
            "wit/counsel.wit",
        ]
    );
}

#[test]
fn the_hash_matches_an_independent_computation() {
    // Computed with Python's hashlib over the same files, each as
    // path + NUL + little-endian u64 length + content, sorted by path.
    let fixture = Fixture::new();
    assert_eq!(
        fixture.checkout().hash("demo").unwrap(),
        "sha256:bddcc27f519a415b508a01089b29dc16706659212333e9abfb3e2679f5cb4c35"
    );
}

#[test]
fn the_hash_follows_sources_not_tests_or_other_policies() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    let before = checkout.hash("demo").unwrap();
    fixture.write("policies/demo/tests/it.rs", "// changed test\n");
    fixture.write("policies/other/src/lib.rs", "// changed\n");
    fixture.write("policies/sdk/.hidden", "x");
    fixture.write("README.md", "changed\n");
    assert_eq!(checkout.hash("demo").unwrap(), before);
    for (rel, content) in [
        ("policies/demo/src/lib.rs", "// demo 2\n"),
        ("policies/sdk/src/new.rs", "// new\n"),
        ("policies/edit/build.rs", "fn main() {}\n"),
        ("policies/Cargo.lock", "version = 3\n"),
        ("policies/build.sh", "#!/bin/sh\nexit 1\n"),
        ("wit/counsel.wit", "package counsel:policy@0.2.0;\n"),
    ] {
        let previous = checkout.hash("demo").unwrap();
        fixture.write(rel, content);
        assert_ne!(checkout.hash("demo").unwrap(), previous, "{rel}");
    }
}

#[test]
fn moving_bytes_between_files_changes_the_hash() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    fixture.write("policies/demo/src/lib.rs", "ab");
    fixture.write("policies/demo/src/rules/one.rs", "c");
    let before = checkout.hash("demo").unwrap();
    fixture.write("policies/demo/src/lib.rs", "a");
    fixture.write("policies/demo/src/rules/one.rs", "bc");
    assert_ne!(checkout.hash("demo").unwrap(), before);
}

#[test]
fn unknown_policies_and_workspaces_are_named() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    assert_eq!(
        checkout.hash("missing").unwrap_err().to_string(),
        "there is no policy crate policies/missing (no Cargo.toml); a policy's directory is \
         named after its crate"
    );
    assert_eq!(
        checkout.hash("sdk").unwrap_err().to_string(),
        "`sdk` is not a policy name"
    );
    let err = Checkout::new(&fixture.root.join("wit")).unwrap_err();
    assert!(
        err.to_string().ends_with(
            "wit is not the policies workspace (it has no Cargo.toml); pass --policies DIR"
        ),
        "{err}"
    );
}

#[test]
fn records_carry_the_hash_and_say_how_they_were_made() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    let record = checkout.record("demo").unwrap();
    let lines: Vec<_> = record.lines().collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0], checkout.hash("demo").unwrap());
    assert!(lines[1].starts_with("# sha256 over paths and contents of policies/demo/"));
    assert!(lines[1].contains("policies/build.sh --verify"));
    assert_eq!(recorded_hash(&record), Some(lines[0]));
    assert_eq!(recorded_hash("# only a comment\n"), None);
    assert_eq!(recorded_hash("md5:abc\n"), None);
}

fn stale_messages(findings: &[Finding]) -> Vec<&str> {
    findings
        .iter()
        .filter_map(|f| match f {
            Finding::Stale(message) => Some(message.as_str()),
            Finding::UpToDate { .. } => None,
        })
        .collect()
}

#[test]
fn verify_accepts_fresh_records_and_names_stale_ones() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    fixture.write("policies/dist/demo.wasm", "component");
    fixture.write(
        "policies/dist/demo.inputs",
        &checkout.record("demo").unwrap(),
    );
    let findings = verify(&checkout).unwrap();
    assert_eq!(
        findings,
        [Finding::UpToDate {
            component: "policies/dist/demo.wasm".into(),
            hash: checkout.hash("demo").unwrap()
        }]
    );

    let old = checkout.hash("demo").unwrap();
    fixture.write("policies/sdk/src/lib.rs", "// sdk, changed\n");
    let new = checkout.hash("demo").unwrap();
    let findings = verify(&checkout).unwrap();
    assert_eq!(
        stale_messages(&findings),
        [format!(
            "policies/dist/demo.wasm is stale: it was built from inputs hashing to {old}, but \
             the sources in the tree hash to {new}; rebuild it with: policies/build.sh demo"
        )]
    );
}

#[test]
fn verify_reports_missing_records_orphans_and_unknown_policies() {
    let fixture = Fixture::new();
    let checkout = fixture.checkout();
    fixture.write("policies/dist/demo.wasm", "component");
    fixture.write(
        "policies/dist/other.inputs",
        &checkout.record("other").unwrap(),
    );
    fixture.write("policies/dist/gone.wasm", "component");
    fixture.write("policies/dist/gone.inputs", "sha256:00\n");
    let findings = verify(&checkout).unwrap();
    assert_eq!(
        stale_messages(&findings),
        [
            "policies/dist/demo.wasm has no demo.inputs beside it, so nothing says what it was \
             built from; rebuild it with: policies/build.sh demo",
            "policies/dist/gone.wasm cannot be checked: there is no policy crate policies/gone \
             (no Cargo.toml); a policy's directory is named after its crate; rebuild it with: \
             policies/build.sh gone, or delete it",
            "policies/dist/other.inputs has no other.wasm beside it; rebuild it with: \
             policies/build.sh other (or delete the .inputs file)",
        ]
    );
}

#[test]
fn verify_needs_something_to_verify() {
    let fixture = Fixture::new();
    let err = verify(&fixture.checkout()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "cannot read policies/dist; build the policies with policies/build.sh"
    );
    fixture.write("policies/dist/README", "x");
    let err = verify(&fixture.checkout()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "policies/dist has no .wasm files to verify; build them with policies/build.sh"
    );
}
