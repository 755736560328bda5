//! The pod-security fixture files, read as `policies/pod-security/tests/README.md`
//! defines them, and the Deployment and CronJob wrappers of a Pod case.

use std::path::{Path, PathBuf};

use counsel::source::{self, Document, Style};
use counsel_edit::Edit;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value, json};

/// One case of a fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default = "yes")]
    pub wrap: bool,
    pub object: Value,
    pub expect: Expect,
}

fn yes() -> bool {
    true
}

/// The expected violations per level; a level left out is not run.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default)]
    pub baseline: Option<Vec<Expected>>,
    #[serde(default)]
    pub restricted: Option<Vec<Expected>>,
}

impl Expect {
    /// The levels the case names, with their expectations.
    pub fn levels(&self) -> impl Iterator<Item = (&'static str, &[Expected])> {
        [
            ("baseline", self.baseline.as_deref()),
            ("restricted", self.restricted.as_deref()),
        ]
        .into_iter()
        .filter_map(|(level, expected)| expected.map(|e| (level, e)))
    }
}

/// One expected violation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    pub rule: String,
    pub path: String,
    /// Absent key: no found value; `found: null` is a JSON null.
    #[serde(default, deserialize_with = "present")]
    pub found: Option<Value>,
    pub fixes: Vec<Edit>,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub hint: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

impl Case {
    /// The objects this case is submitted as.
    pub fn wrappers(&self) -> &'static [Wrapper] {
        if self.wrap && self.object.get("kind") == Some(&json!("Pod")) {
            &[Wrapper::AsWritten, Wrapper::Deployment, Wrapper::CronJob]
        } else {
            &[Wrapper::AsWritten]
        }
    }
}

/// How a case's object is submitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    AsWritten,
    Deployment,
    CronJob,
}

impl Wrapper {
    /// Where the pod template (metadata + spec) lives in the wrapper.
    fn prefix(self) -> &'static str {
        match self {
            Wrapper::AsWritten => "",
            Wrapper::Deployment => "/spec/template",
            Wrapper::CronJob => "/spec/jobTemplate/spec/template",
        }
    }

    /// The case's object as this wrapper submits it.
    pub fn wrap(self, pod: &Value) -> Value {
        let mut template = Map::new();
        for key in ["metadata", "spec"] {
            if let Some(value) = pod.get(key) {
                template.insert(key.to_owned(), value.clone());
            }
        }
        let name = pod
            .pointer("/metadata/name")
            .cloned()
            .unwrap_or(json!("case"));
        match self {
            Wrapper::AsWritten => pod.clone(),
            Wrapper::Deployment => json!({
                "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
                "spec": {"selector": {"matchLabels": {"app": "case"}}, "template": template},
            }),
            Wrapper::CronJob => json!({
                "apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": name},
                "spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {"template": template}}},
            }),
        }
    }

    /// An expected violation with its pointers moved into the wrapper.
    pub fn shift(self, expected: &Expected) -> Result<Expected, String> {
        let shift = |pointer: &str| {
            if self == Wrapper::AsWritten {
                Ok(pointer.to_owned())
            } else if pointer.starts_with("/spec") || pointer.starts_with("/metadata") {
                Ok(format!("{}{pointer}", self.prefix()))
            } else {
                Err(format!(
                    "a Pod case's pointer `{pointer}` is outside /spec and /metadata"
                ))
            }
        };
        let mut shifted = expected.clone();
        shifted.path = shift(&expected.path)?;
        for fix in &mut shifted.fixes {
            *fix = match fix {
                Edit::Set { path, value } => Edit::set(shift(path)?, value.clone()),
                Edit::Remove { path } => Edit::remove(shift(path)?),
            };
        }
        Ok(shifted)
    }
}

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
