//! From configuration text to a checked [`Config`].
//!
//! The YAML is read with positions; each policy entry is deserialised on its
//! own, so an error can name the policy, the field (by its path) and the
//! line the field is on.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use super::{
    Config, ConfigError, ExceptionSettings, FailurePolicy, LabelSelector, Limits, Match, Mode,
    Module, Origin, PolicyConfig, RuleOverride, Unfixable, Updates, bundled, quantity,
};
use crate::request::Operation;
use crate::source::{self, Document};

/// What a module reference to a bundled policy starts with.
const BUILTIN_PREFIX: &str = "builtin:";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    policies: Vec<Value>,
    #[serde(default)]
    exceptions: RawExceptions,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawExceptions {
    #[serde(default)]
    max_lifetime: Option<String>,
    #[serde(default)]
    warn_before: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawPolicy {
    name: String,
    module: String,
    #[serde(default)]
    settings: Option<Value>,
    #[serde(default)]
    settings_file: Option<String>,
    #[serde(default)]
    mode: Option<Mode>,
    #[serde(default)]
    updates: Option<Updates>,
    #[serde(default)]
    unfixable: Option<Unfixable>,
    #[serde(default, rename = "match")]
    matcher: RawMatch,
    #[serde(default)]
    failure_policy: Option<FailurePolicy>,
    #[serde(default)]
    timeout: Option<String>,
    #[serde(default)]
    memory: Option<Quantity>,
    #[serde(default)]
    contact: Option<String>,
    #[serde(default)]
    rules: BTreeMap<String, RuleOverride>,
}

/// A size written as a number or a string (`64Mi`).
#[derive(Deserialize)]
#[serde(untagged)]
enum Quantity {
    Number(u64),
    Text(String),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMatch {
    #[serde(default)]
    kinds: Option<Vec<String>>,
    #[serde(default)]
    operations: Option<Vec<Operation>>,
    #[serde(default)]
    namespaces: RawNamespaces,
    #[serde(default)]
    object_selector: LabelSelector,
    #[serde(default)]
    namespace_selector: LabelSelector,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawNamespaces {
    #[serde(default)]
    include: Vec<String>,
    #[serde(default)]
    exclude: Vec<String>,
}

/// Errors of one configuration, with the document to find lines in.
struct Reporter<'a> {
    origin: &'a Origin,
    document: Option<&'a Document>,
}

impl Reporter<'_> {
    fn line(&self, pointer: &str) -> Option<usize> {
        self.document.map(|doc| doc.locate(pointer).span.start.line)
    }

    fn error(&self, pointer: &str, message: String) -> ConfigError {
        ConfigError {
            origin: self.origin.clone(),
            line: self.line(pointer),
            message,
        }
    }
}

pub(super) fn parse(text: &str, origin: Origin, base: &Path) -> Result<Config, ConfigError> {
    let documents = source::parse(text).map_err(|e| ConfigError {
        origin: origin.clone(),
        line: Some(e.line),
        message: format!("column {}: {}", e.column, e.message),
    })?;
    let reporter = Reporter {
        origin: &origin,
        document: documents.first(),
    };
    let document = match documents.as_slice() {
        [document] => document,
        [] => {
            return Err(reporter.error(
                "",
                "the configuration is empty; it needs a `policies:` list".into(),
            ));
        }
        [_, second, ..] => {
            return Err(ConfigError {
                origin: origin.clone(),
                line: Some(second.span.start.line),
                message: "the configuration must be a single YAML document".into(),
            });
        }
    };
    let file: RawFile = deserialize(document.value.clone(), "", &reporter, "")?;
    let mut names = HashSet::new();
    let mut policies = Vec::with_capacity(file.policies.len());
    for (index, entry) in file.policies.into_iter().enumerate() {
        let pointer = format!("/policies/{index}");
        let label = entry.get("name").and_then(Value::as_str).map_or_else(
            || format!("policy #{}", index + 1),
            |name| format!("policy {name:?}"),
        );
        let raw: RawPolicy = deserialize(entry, &pointer, &reporter, &format!("{label}: "))?;
        let policy = check(raw, &pointer, &label, base, &reporter)?;
        if !names.insert(policy.name.clone()) {
            return Err(reporter.error(
                &format!("{pointer}/name"),
                format!("{label} is configured twice; policy names must be unique"),
            ));
        }
        policies.push(policy);
    }
    let exceptions = exception_settings(&file.exceptions, &reporter)?;
    Ok(Config {
        origin,
        policies,
        exceptions,
    })
}

/// Checks the one policy entry at `pointer` in `document` (a test suite's
/// `policy:`), as an entry of `policies:` is checked.
pub(super) fn policy_entry(
    document: &Document,
    pointer: &str,
    origin: &Origin,
    base: &Path,
) -> Result<PolicyConfig, ConfigError> {
    let reporter = Reporter {
        origin,
        document: Some(document),
    };
    let entry = document
        .value
        .pointer(pointer)
        .cloned()
        .unwrap_or(Value::Null);
    let label = entry.get("name").and_then(Value::as_str).map_or_else(
        || "the policy".to_owned(),
        |name| format!("policy {name:?}"),
    );
    let raw: RawPolicy = deserialize(entry, pointer, &reporter, &format!("{label}: "))?;
    check(raw, pointer, &label, base, &reporter)
}

fn exception_settings(
    raw: &RawExceptions,
    reporter: &Reporter<'_>,
) -> Result<ExceptionSettings, ConfigError> {
    let mut settings = ExceptionSettings::default();
    let read = |text: &Option<String>, field: &str, into: &mut std::time::Duration| {
        if let Some(text) = text {
            *into = quantity::lifetime(text).map_err(|e| {
                reporter.error(
                    &format!("/exceptions/{field}"),
                    format!("exceptions.{field}: {e}"),
                )
            })?;
        }
        Ok::<_, ConfigError>(())
    };
    read(&raw.max_lifetime, "maxLifetime", &mut settings.max_lifetime)?;
    read(&raw.warn_before, "warnBefore", &mut settings.warn_before)?;
    Ok(settings)
}

/// Deserialises `value` (found at `pointer`), reporting the exact field.
fn deserialize<T: serde::de::DeserializeOwned>(
    value: Value,
    pointer: &str,
    reporter: &Reporter<'_>,
    prefix: &str,
) -> Result<T, ConfigError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let mut at = pointer.to_owned();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => at.push_str(&format!("/{index}")),
                serde_path_to_error::Segment::Map { key } => {
                    at = counsel_edit::pointer::push(&at, key)
                }
                serde_path_to_error::Segment::Enum { .. }
                | serde_path_to_error::Segment::Unknown => {}
            }
        }
        let field = error.path().to_string();
        let field = if field == "." {
            String::new()
        } else {
            format!("{field}: ")
        };
        reporter.error(&at, format!("{prefix}{field}{}", error.inner()))
    })
}

fn check(
    raw: RawPolicy,
    pointer: &str,
    label: &str,
    base: &Path,
    reporter: &Reporter<'_>,
) -> Result<PolicyConfig, ConfigError> {
    let field_error = |field: &str, message: String| {
        let path = field.replace('.', "/");
        reporter.error(
            &format!("{pointer}/{path}"),
            format!("{label}: {field}: {message}"),
        )
    };
    if raw.name.is_empty() || raw.name.contains(['/', ' ']) {
        return Err(field_error(
            "name",
            "a policy name must be non-empty, without '/' or spaces".into(),
        ));
    }
    let module = match raw.module.strip_prefix(BUILTIN_PREFIX) {
        Some(name) => {
            let Some(&(name, _)) = super::BUNDLED.iter().find(|(bundled, _)| *bundled == name)
            else {
                let known: Vec<_> = super::BUNDLED
                    .iter()
                    .map(|(name, _)| format!("{BUILTIN_PREFIX}{name}"))
                    .collect();
                return Err(field_error(
                    "module",
                    format!(
                        "there is no bundled policy {name:?}; bundled are {}",
                        known.join(", ")
                    ),
                ));
            };
            debug_assert!(bundled(name).is_some());
            Module::Bundled(name)
        }
        None => {
            let path = base.join(&raw.module);
            if !path.is_file() {
                return Err(field_error(
                    "module",
                    format!("{} does not exist or is not a file", path.display()),
                ));
            }
            Module::Path(path)
        }
    };
    let mut settings_lines = BTreeMap::new();
    let (settings, settings_file) = match (raw.settings, &raw.settings_file) {
        (Some(_), Some(_)) => {
            return Err(field_error(
                "settingsFile",
                "give `settings` or `settingsFile`, not both".into(),
            ));
        }
        (None, Some(file)) => {
            let path = base.join(file);
            let (settings, lines) =
                settings_file(&path).map_err(|e| field_error("settingsFile", e))?;
            settings_lines = lines;
            (settings, Some(path))
        }
        (None | Some(Value::Null), None) => (Value::Object(Default::default()), None),
        (Some(settings @ Value::Object(_)), None) => {
            let in_file = format!("{pointer}/settings");
            record_lines(&settings, "", &in_file, reporter, &mut settings_lines);
            (settings, None)
        }
        (Some(_), None) => {
            return Err(field_error("settings", "settings must be a mapping".into()));
        }
    };
    let mut limits = Limits::default();
    if let Some(timeout) = &raw.timeout {
        limits.timeout = quantity::duration(timeout).map_err(|e| field_error("timeout", e))?;
    }
    if let Some(memory) = raw.memory {
        limits.memory = match memory {
            Quantity::Number(bytes) => bytes,
            Quantity::Text(text) => quantity::bytes(&text).map_err(|e| field_error("memory", e))?,
        };
    }
    let mut rules = raw.rules;
    for (id, rule) in &mut rules {
        rule.line = reporter.line(&counsel_edit::pointer::push(
            &format!("{pointer}/rules"),
            id,
        ));
    }
    Ok(PolicyConfig {
        name: raw.name,
        module,
        settings,
        settings_file,
        mode: raw.mode.unwrap_or(Mode::Enforce),
        updates: raw.updates.unwrap_or_default(),
        unfixable: raw.unfixable.unwrap_or_default(),
        matcher: Match {
            kinds: raw.matcher.kinds,
            operations: raw
                .matcher
                .operations
                .unwrap_or_else(|| vec![Operation::Create, Operation::Update]),
            include_namespaces: raw.matcher.namespaces.include,
            exclude_namespaces: raw.matcher.namespaces.exclude,
            object_selector: raw.matcher.object_selector,
            namespace_selector: raw.matcher.namespace_selector,
        },
        failure_policy: raw.failure_policy.unwrap_or(FailurePolicy::Fail),
        limits,
        contact: raw.contact,
        rules,
        line: reporter.line(pointer),
        settings_lines,
    })
}

/// The settings in `path` (one YAML or JSON mapping), with the line of
/// every node.
fn settings_file(path: &Path) -> Result<(Value, BTreeMap<String, usize>), String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
    let documents = source::parse(&text)
        .map_err(|e| format!("{shown}:{}: column {}: {}", e.line, e.column, e.message))?;
    let [document] = documents.as_slice() else {
        return Err(format!("{shown} must hold one YAML document, the settings"));
    };
    if !document.value.is_object() {
        return Err(format!("{shown} must hold a mapping, the settings"));
    }
    let origin = Origin::File(path.to_path_buf());
    let reporter = Reporter {
        origin: &origin,
        document: Some(document),
    };
    let mut lines = BTreeMap::new();
    record_lines(&document.value, "", "", &reporter, &mut lines);
    Ok((document.value.clone(), lines))
}

/// Records the line of `value` (at `at` in the settings, `in_file` in the
/// document) and of everything in it.
fn record_lines(
    value: &Value,
    at: &str,
    in_file: &str,
    reporter: &Reporter<'_>,
    lines: &mut BTreeMap<String, usize>,
) {
    let Some(line) = reporter.line(in_file) else {
        return;
    };
    lines.insert(at.to_owned(), line);
    let mut record = |token: &str, child: &Value| {
        let at = counsel_edit::pointer::push(at, token);
        let in_file = counsel_edit::pointer::push(in_file, token);
        record_lines(child, &at, &in_file, reporter, lines);
    };
    match value {
        Value::Object(map) => map.iter().for_each(|(key, child)| record(key, child)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(index, child)| record(&index.to_string(), child)),
        _ => {}
    }
}
