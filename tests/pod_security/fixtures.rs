//! The pod-security fixture files, read as `policies/pod-security/tests/README.md`
//! defines them, the way Kubernetes reads YAML. The fixture model (cases,
//! expectations, wrappers) is the native runner's own, shared.

use std::path::{Path, PathBuf};

use counsel::source::{self, Document, Style};

#[path = "../../policies/pod-security/tests/fixture/mod.rs"]
mod fixture;

pub use fixture::{Case, Expected, Got, Wrapper, compare};

/// The fixture directory of the pod-security policy.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("policies/pod-security/tests/cases")
}

/// Every fixture file, by name, in name order.
pub fn files() -> Vec<PathBuf> {
    let dir = dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixture files in {}", dir.display());
    files
}

/// The cases of one fixture file.
///
/// The format is YAML 1.2 (the native runner reads it with serde-saphyr);
/// `counsel::source` reads YAML as Kubernetes does, the 1.1 way. The two agree
/// except on a few plain scalars, which are refused here so that both runners
/// are sure to run the same cases.
pub fn load(path: &Path) -> Vec<Case> {
    let name = path.display();
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|err| panic!("cannot read {name}: {err}"));
    let documents = source::parse(&text).unwrap_or_else(|err| panic!("{name}:{err}"));
    let [document] = documents.as_slice() else {
        panic!(
            "{name}: expected one YAML document, found {}",
            documents.len()
        );
    };
    if let Some((line, scalar)) = read_differently(document, &text) {
        panic!(
            "{name}:{line}: the plain scalar `{scalar}` means different things in YAML 1.1 and 1.2; quote it"
        );
    }
    serde_path_to_error::deserialize(&document.value)
        .unwrap_or_else(|err| panic!("{name} is not a fixture file: at {}: {err}", err.path()))
}

/// The first plain scalar (key or value) that YAML 1.1 and 1.2 resolve
/// differently, with its line.
fn read_differently(document: &Document, text: &str) -> Option<(usize, String)> {
    for (_, node) in document.nodes() {
        let key = node.key.map(|span| (span, span.slice(text)));
        let key = key.filter(|(_, written)| !written.starts_with(['"', '\'', '?']));
        let value = (node.style == Style::Plain && !node.tagged).then(|| {
            let written = node.value.slice(text);
            // The span starts at the anchor, if any.
            let written = match written.strip_prefix('&') {
                Some(anchored) => anchored.split_once(' ').map_or("", |(_, s)| s.trim_start()),
                None => written,
            };
            (node.value, written)
        });
        for (span, written) in key.into_iter().chain(value) {
            if ambiguous(written) {
                return Some((span.start.line, written.to_owned()));
            }
        }
    }
    None
}

/// YAML 1.1 booleans that are strings in 1.2, and 1.1 integer forms (legacy
/// octal `0755`, binary, `_` separators) that 1.2 reads otherwise.
fn ambiguous(scalar: &str) -> bool {
    const BOOLEANS_1_1: [&str; 16] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let unsigned = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    BOOLEANS_1_1.contains(&scalar)
        || (unsigned.len() > 1 && unsigned.starts_with('0') && digits(unsigned))
        || unsigned.strip_prefix("0b").is_some_and(digits)
        || (digits(unsigned) && unsigned.contains('_'))
}

#[test]
fn scalars_yaml_1_1_and_1_2_read_differently_are_refused() {
    for scalar in ["yes", "No", "ON", "y", "0755", "-017", "0b101", "1_000"] {
        assert!(ambiguous(scalar), "{scalar}");
    }
    for scalar in [
        "true",
        "False",
        "null",
        "0",
        "10",
        "-3",
        "0x1F",
        "1.5",
        "RuntimeDefault",
        "yes please",
    ] {
        assert!(!ambiguous(scalar), "{scalar}");
    }
    let first = |text: &str| {
        let documents = source::parse(text).expect("YAML");
        read_differently(&documents[0], text)
    };
    assert_eq!(
        first("- {name: a, wrap: yes}\n"),
        Some((1, "yes".to_owned()))
    );
    assert_eq!(
        first("a: 1\nb: &x off\nc: *x\n"),
        Some((2, "off".to_owned()))
    );
    assert_eq!(first("a: 1\non: 2\n"), Some((2, "on".to_owned())));
    assert_eq!(
        first("a: 'yes'\n\"on\": !!str no\nb: [0x10, \"0755\"]\n"),
        None
    );
}
