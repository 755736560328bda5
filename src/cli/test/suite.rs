//! A test suite file (`*.test.yaml`), read and checked: the policy under
//! test and its cases. Every mistake names the file, the line and the field
//! (`cases[1].expect.allowed`), as configuration errors do.

use std::collections::BTreeMap;
use std::path::Path;

use counsel::config::{Config, Mode, Origin};
use counsel::remedy::FixScope;
use counsel::request::Operation;
use counsel::review::Namespace;
use counsel::source::{self, Document};
use serde::Deserialize;
use serde_json::Value;

/// A suite that cannot be run: the file, the line when known, and what is
/// wrong (naming the field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SuiteError {
    /// The file at fault, as shown (the suite, or a file it names).
    pub file: String,
    /// The line, when known.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for SuiteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// A suite, read: the configuration of the one policy it tests, and its
/// cases.
pub struct Suite {
    /// The suite file as shown.
    pub file: String,
    /// A configuration holding only the policy under test.
    pub config: Config,
    /// The labels of the namespaces cases are in (`namespaces:`).
    pub namespaces: Vec<Namespace>,
    /// The cases, in order.
    pub cases: Vec<Case>,
}

/// One case: an object, how it is sent, and what must come of it.
pub struct Case {
    /// What the case is about.
    pub name: String,
    /// The line the case starts on.
    pub line: usize,
    /// The object sent (on DELETE, the object deleted).
    pub object: Value,
    /// The stored object, for an UPDATE (default: the object itself).
    pub old_object: Option<Value>,
    /// CREATE (default), UPDATE or DELETE.
    pub operation: Operation,
    /// The namespace of an object that names none.
    pub namespace: Option<String>,
    /// Which fixes `expect.fixed` is made with (`fix: safe | all`).
    pub fix: FixScope,
    /// What must come of it.
    pub expect: Expect,
}

/// The expected outcome of a case.
pub struct Expect {
    /// Whether the request is allowed.
    pub allowed: bool,
    /// Exactly the findings expected, in any order (none when not given).
    pub findings: Vec<ExpectedFinding>,
    /// The object after `counsel check --fix`, when the case says.
    pub fixed: Option<Value>,
}

/// One finding a case expects; what it leaves out matches anything.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ExpectedFinding {
    /// The rule id.
    pub rule: String,
    /// The field as a developer reads it (`spec.containers[0].image`).
    #[serde(default)]
    pub field: Option<String>,
    /// The field as a JSON Pointer (`/spec/containers/0/image`).
    #[serde(default)]
    pub path: Option<String>,
    /// The finding's mode (`enforce`, `warn`, `audit`, `fix`).
    #[serde(default)]
    pub mode: Option<Mode>,
}

impl ExpectedFinding {
    /// How many of the optional members it gives: the more, the sooner it
    /// is matched, so that a vaguer expectation does not take a finding a
    /// more precise one needs.
    pub fn precision(&self) -> usize {
        usize::from(self.field.is_some())
            + usize::from(self.path.is_some())
            + usize::from(self.mode.is_some())
    }
}

impl std::fmt::Display for ExpectedFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.rule)?;
        if let Some(field) = self.field.as_ref().or(self.path.as_ref()) {
            write!(f, " at {field}")?;
        }
        if let Some(mode) = self.mode {
            write!(f, " ({})", mode.as_str())?;
        }
        Ok(())
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    #[serde(default)]
    config: Option<String>,
    policy: Value,
    #[serde(default)]
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    cases: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawCase {
    name: String,
    #[serde(default)]
    object: Option<Value>,
    #[serde(default)]
    file: Option<String>,
    #[serde(default)]
    old_object: Option<Value>,
    #[serde(default)]
    old_file: Option<String>,
    #[serde(default)]
    operation: Option<Operation>,
    #[serde(default)]
    namespace: Option<String>,
    #[serde(default)]
    fix: Option<RawFix>,
    expect: RawExpect,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum RawFix {
    Safe,
    All,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawExpect {
    allowed: bool,
    #[serde(default)]
    findings: Vec<ExpectedFinding>,
    #[serde(default)]
    fixed: Option<Value>,
    #[serde(default)]
    fixed_file: Option<String>,
}

/// Where a suite's errors point.
struct At<'a> {
    file: &'a str,
    document: &'a Document,
}

impl At<'_> {
    fn error(&self, pointer: &str, message: impl Into<String>) -> SuiteError {
        SuiteError {
            file: self.file.to_owned(),
            line: Some(self.document.locate(pointer).span.start.line),
            message: message.into(),
        }
    }

    /// Deserialises `value` (at `pointer`), naming the exact field at
    /// fault, from `field` (`cases[1]`) down.
    fn deserialize<T: serde::de::DeserializeOwned>(
        &self,
        value: Value,
        pointer: &str,
        field: &str,
    ) -> Result<T, SuiteError> {
        serde_path_to_error::deserialize(value).map_err(|error| {
            let mut at = pointer.to_owned();
            let mut name = field.to_owned();
            for segment in error.path().iter() {
                match segment {
                    serde_path_to_error::Segment::Seq { index } => {
                        at.push_str(&format!("/{index}"));
                        name.push_str(&format!("[{index}]"));
                    }
                    serde_path_to_error::Segment::Map { key } => {
                        at = counsel_edit::pointer::push(&at, key);
                        if !name.is_empty() {
                            name.push('.');
                        }
                        name.push_str(key);
                    }
                    serde_path_to_error::Segment::Enum { .. }
                    | serde_path_to_error::Segment::Unknown => {}
                }
            }
            let name = if name.is_empty() {
                String::new()
            } else {
                format!("{name}: ")
            };
            self.error(&at, format!("{name}{}", error.inner()))
        })
    }
}

/// Reads and checks the suite at `path` (shown as `file`). The policy's
/// configuration is checked here too (module, settings file); loading it is
/// the caller's.
pub fn read(path: &Path, file: &str) -> Result<Suite, SuiteError> {
    let whole = |message: String| SuiteError {
        file: file.to_owned(),
        line: None,
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| whole(format!("cannot read: {e}")))?;
    let documents = source::parse(&text).map_err(|e| SuiteError {
        file: file.to_owned(),
        line: Some(e.line),
        message: format!("column {}: {}", e.column, e.message),
    })?;
    let [document] = documents.as_slice() else {
        return Err(whole("a test suite is one YAML document".into()));
    };
    let at = At { file, document };
    let raw: RawSuite = at.deserialize(document.value.clone(), "", "")?;
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let config = policy(&raw, &at, &base, path)?;
    let namespaces = raw
        .namespaces
        .into_iter()
        .map(|(name, labels)| Namespace {
            name,
            labels,
            annotations: BTreeMap::new(),
        })
        .collect();
    if raw.cases.is_empty() {
        return Err(at.error("/cases", "cases: a suite needs at least one case"));
    }
    let mut cases = Vec::with_capacity(raw.cases.len());
    for (index, value) in raw.cases.into_iter().enumerate() {
        cases.push(case(value, index, &at, &base)?);
    }
    Ok(Suite {
        file: file.to_owned(),
        config,
        namespaces,
        cases,
    })
}

/// The configuration of the policy under test: `policy:` as an entry of
/// counsel.yaml's `policies:`, or the name of one in `config:`.
fn policy(raw: &RawSuite, at: &At<'_>, base: &Path, path: &Path) -> Result<Config, SuiteError> {
    let config_error = |error: counsel::config::ConfigError| SuiteError {
        file: error.origin.to_string(),
        line: error.line,
        message: error.message,
    };
    match (&raw.policy, &raw.config) {
        (Value::String(name), Some(config)) => {
            let mut config = Config::load(&base.join(config)).map_err(config_error)?;
            let known: Vec<String> = config.policies.iter().map(|p| p.name.clone()).collect();
            config.policies.retain(|p| &p.name == name);
            if config.policies.is_empty() {
                return Err(at.error(
                    "/policy",
                    format!(
                        "policy: {} has no policy {name:?}; it has {}",
                        config.origin,
                        known.join(", ")
                    ),
                ));
            }
            Ok(config)
        }
        (Value::String(_), None) => Err(at.error(
            "/policy",
            "policy: a policy named by name needs `config:`, the counsel.yaml that has it",
        )),
        (Value::Object(_), None) => Config::of_policy_entry(
            at.document,
            "/policy",
            Origin::File(path.to_path_buf()),
            base,
        )
        .map_err(|mut error| {
            // Errors in the suite itself are shown as the suite is named.
            if error.origin == Origin::File(path.to_path_buf()) {
                error.origin = Origin::File(at.file.into());
            }
            config_error(error)
        }),
        (Value::Object(_), Some(_)) => Err(at.error(
            "/config",
            "config: give `policy:` as a policy entry, or `config:` and `policy:` as the name of one of its policies, not both",
        )),
        _ => Err(at.error(
            "/policy",
            "policy: expected a policy entry (name, module, settings, ...) as in counsel.yaml, or the name of a policy of `config:`",
        )),
    }
}

fn case(value: Value, index: usize, at: &At<'_>, base: &Path) -> Result<Case, SuiteError> {
    let pointer = format!("/cases/{index}");
    let field = format!("cases[{index}]");
    let raw: RawCase = at.deserialize(value, &pointer, &field)?;
    let object = one_of(
        at,
        base,
        &pointer,
        &field,
        ("object", raw.object),
        ("file", raw.file),
    )?
    .ok_or_else(|| {
        at.error(
            &pointer,
            format!("{field}: give the object, inline (`object:`) or in a file (`file:`)"),
        )
    })?;
    let old_object = one_of(
        at,
        base,
        &pointer,
        &field,
        ("oldObject", raw.old_object),
        ("oldFile", raw.old_file),
    )?;
    let operation = raw.operation.unwrap_or(Operation::Create);
    if old_object.is_some() && operation != Operation::Update {
        return Err(at.error(
            &format!("{pointer}/operation"),
            format!("{field}: an old object is for `operation: UPDATE`"),
        ));
    }
    let expect_pointer = format!("{pointer}/expect");
    let fixed = one_of(
        at,
        base,
        &expect_pointer,
        &format!("{field}.expect"),
        ("fixed", raw.expect.fixed),
        ("fixedFile", raw.expect.fixed_file),
    )?;
    Ok(Case {
        name: raw.name,
        line: at.document.locate(&pointer).span.start.line,
        object,
        old_object,
        operation,
        namespace: raw.namespace,
        fix: match raw.fix {
            Some(RawFix::All) => FixScope::All,
            Some(RawFix::Safe) | None => FixScope::Safe,
        },
        expect: Expect {
            allowed: raw.expect.allowed,
            findings: raw.expect.findings,
            fixed,
        },
    })
}

/// An object given inline or in a file (relative to the suite), not both.
fn one_of(
    at: &At<'_>,
    base: &Path,
    pointer: &str,
    field: &str,
    (inline_name, inline): (&str, Option<Value>),
    (file_name, file): (&str, Option<String>),
) -> Result<Option<Value>, SuiteError> {
    match (inline, file) {
        (Some(_), Some(_)) => Err(at.error(
            &format!("{pointer}/{file_name}"),
            format!("{field}: give `{inline_name}` or `{file_name}`, not both"),
        )),
        (Some(object @ Value::Object(_)), None) => Ok(Some(object)),
        (Some(_), None) => Err(at.error(
            &format!("{pointer}/{inline_name}"),
            format!("{field}.{inline_name}: expected a mapping, the object"),
        )),
        (None, Some(name)) => object_file(&base.join(&name)).map(Some).map_err(|why| {
            at.error(
                &format!("{pointer}/{file_name}"),
                format!("{field}.{file_name}: {name}: {why}"),
            )
        }),
        (None, None) => Ok(None),
    }
}

/// The one object in a manifest file (`counsel run --review` reads its
/// manifests so too).
pub fn object_file(path: &Path) -> Result<Value, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
    let documents = source::parse(&text).map_err(|e| format!("line {}: {}", e.line, e.message))?;
    let mut objects = documents.into_iter().filter(|d| !d.value.is_null());
    match (objects.next(), objects.next()) {
        (Some(document), None) if document.value.is_object() => Ok(document.value),
        (Some(_), None) => Err("expected a mapping, the object".into()),
        (None, _) => Err("holds no object".into()),
        (Some(_), Some(_)) => Err("holds more than one object; give one per file".into()),
    }
}
