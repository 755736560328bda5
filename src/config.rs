//! `counsel.yaml`: which policies run, on what, how strictly, and what ops
//! want developers to read when a rule is broken.
//!
//! Loading is all-or-nothing: the first error stops it, naming the file, the
//! line, the policy and the field. Module paths are relative to the file.
//! With no file, the configuration embedded in the binary runs the bundled
//! policies.

mod bundled;
mod quantity;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use counsel_contract::{FixSafety, Severity};
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use bundled::{BUNDLED, bundled};

use crate::engine::Limits;
use crate::request::Operation;
use crate::source::Document;

/// The configuration used when none is given.
const DEFAULT_CONFIG: &str = include_str!("config/default.yaml");

/// A whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where it was read from, for messages.
    pub origin: Origin,
    /// The policies, in the order they are evaluated and reported.
    pub policies: Vec<PolicyConfig>,
    /// What exceptions may be granted (`exceptions:`).
    pub exceptions: ExceptionSettings,
}

/// Ops' limits on exceptions (`exceptions:` in counsel.yaml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExceptionSettings {
    /// The longest an exception may run from when it is granted or changed
    /// (`maxLifetime`, default 90 days).
    pub max_lifetime: Duration,
    /// How long before its expiry an exception's warning says it expires
    /// soon (`warnBefore`, default 14 days).
    pub warn_before: Duration,
}

impl Default for ExceptionSettings {
    fn default() -> Self {
        const DAY: u64 = 24 * 60 * 60;
        ExceptionSettings {
            max_lifetime: Duration::from_secs(90 * DAY),
            warn_before: Duration::from_secs(14 * DAY),
        }
    }
}

/// Parses a lifetime: `<number><unit>` with unit `d`, `h`, `m` or `s`
/// (`90d`), as `exceptions.maxLifetime` and `--expires` take it.
pub fn lifetime(text: &str) -> Result<Duration, String> {
    quantity::lifetime(text)
}

/// Where a configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A file on disk.
    File(PathBuf),
    /// The default embedded in the binary.
    Builtin,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File(path) => write!(f, "{}", path.display()),
            Origin::Builtin => f.write_str("<built-in configuration>"),
        }
    }
}

/// One policy as configured.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// The name reports and `/validate/{policy}` use.
    pub name: String,
    /// Where the component comes from.
    pub module: Module,
    /// Settings passed to the policy as JSON (an object; `{}` when none).
    pub settings: Value,
    /// The file the settings were read from (`settingsFile`), if not from
    /// the configuration itself.
    pub settings_file: Option<PathBuf>,
    /// What a violation does.
    pub mode: Mode,
    /// What an UPDATE is judged on: what it changes (the default), or the
    /// whole object.
    pub updates: Updates,
    /// What a `fix`-mode violation without a machine fix does.
    pub unfixable: Unfixable,
    /// Which requests the policy sees.
    pub matcher: Match,
    /// What happens when the policy itself fails.
    pub failure_policy: FailurePolicy,
    /// Limits of one evaluation.
    pub limits: Limits,
    /// Whom developers should contact (a team channel, an address).
    pub contact: Option<String>,
    /// Ops' overrides of the policy's rule catalog, by rule id.
    pub rules: BTreeMap<String, RuleOverride>,
    /// The line the policy's entry starts on, for messages.
    pub line: Option<usize>,
    /// The line of every node of `settings` (in the configuration, or in
    /// `settings_file`), by JSON Pointer into the settings, for messages
    /// about a setting.
    pub settings_lines: BTreeMap<String, usize>,
}

impl PolicyConfig {
    /// The line of the setting at `pointer` (into the settings), or of its
    /// nearest parent that has one.
    pub fn settings_line(&self, pointer: &str) -> Option<usize> {
        let mut at = pointer;
        loop {
            if let Some(line) = self.settings_lines.get(at) {
                return Some(*line);
            }
            at = &at[..at.rfind('/')?];
        }
    }
}

/// Where a policy's component comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Module {
    /// A file (absolute, or resolved against the configuration's folder).
    Path(PathBuf),
    /// A policy bundled in the binary (`builtin:NAME`).
    Bundled(&'static str),
}

impl Module {
    /// The component's bytes.
    pub fn read(&self) -> std::io::Result<std::borrow::Cow<'static, [u8]>> {
        match self {
            Module::Path(path) => std::fs::read(path).map(Into::into),
            Module::Bundled(name) => bundled(name).map(Into::into).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no bundled policy {name:?}"),
                )
            }),
        }
    }
}

impl fmt::Display for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Module::Path(path) => write!(f, "{}", path.display()),
            Module::Bundled(name) => write!(f, "builtin:{name}"),
        }
    }
}

/// What a policy's violations do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Deny the request.
    Enforce,
    /// Allow it, and tell the developer.
    Warn,
    /// Allow it silently; record it for ops.
    Audit,
    /// Allow it, and let the mutating webhook (`/mutate`) apply the
    /// violation's machine fix, telling the developer what it changed.
    /// Violations without a machine fix deny, unless [`Unfixable::Warn`].
    Fix,
}

impl Mode {
    /// The lower-case name (`enforce`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Warn => "warn",
            Mode::Audit => "audit",
            Mode::Fix => "fix",
        }
    }
}

/// How a policy judges an UPDATE (`updates:` in `counsel.yaml`).
///
/// Whatever the setting, requests that cannot change what a policy judges
/// are never denied: DELETE, writes to the `status` and `scale`
/// subresources, and UPDATEs of an object being deleted that only remove
/// finalizers (see `review`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Updates {
    /// Only violations the update introduces or changes deny: one already
    /// in the stored object, at the same field with the same value, is a
    /// warning that says it was there before. So an object that predates a
    /// policy can still be labelled, scaled, or have its finalizers removed.
    #[default]
    Changed,
    /// Every violation of the updated object denies, as on CREATE.
    Strict,
}

impl Updates {
    /// The lower-case name (`changed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Updates::Changed => "changed",
            Updates::Strict => "strict",
        }
    }
}

/// What a `fix`-mode violation without a machine fix does (`unfixable:`
/// in `counsel.yaml`, per policy or per rule).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Unfixable {
    /// Deny it, as `enforce` would: fix mode must not let in what it
    /// cannot fix.
    #[default]
    Deny,
    /// Allow it with a warning.
    Warn,
}

/// What happens when a policy fails (traps, times out, returns garbage).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FailurePolicy {
    /// Deny, saying the policy failed and whom to contact.
    Fail,
    /// Allow, with a warning.
    Ignore,
}

/// Which requests a policy sees.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Match {
    /// Kinds (`Deployment`); `None` takes the policy's own default kinds.
    /// `*` matches every kind.
    pub kinds: Option<Vec<String>>,
    /// Operations; CREATE and UPDATE unless configured.
    pub operations: Vec<Operation>,
    /// Namespaces the policy is limited to (empty: all).
    pub include_namespaces: Vec<String>,
    /// Namespaces the policy never sees.
    pub exclude_namespaces: Vec<String>,
    /// What the object's labels must satisfy (`objectSelector`).
    pub object_selector: LabelSelector,
    /// What the labels of the object's namespace must satisfy
    /// (`namespaceSelector`; see `matching.rs` for cluster-scoped objects
    /// and unknown namespaces).
    pub namespace_selector: LabelSelector,
}

/// A Kubernetes label selector: every label of `match_labels` and every
/// expression must hold; an empty selector selects everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LabelSelector {
    /// Labels that must be present with these values.
    #[serde(default)]
    pub match_labels: BTreeMap<String, String>,
    /// Further label requirements.
    #[serde(default)]
    pub match_expressions: Vec<LabelExpression>,
}

impl LabelSelector {
    /// Whether the selector selects everything.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

/// One label requirement, as in a Kubernetes label selector.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabelExpression {
    /// The label.
    pub key: String,
    /// How the label's value is compared.
    pub operator: LabelOperator,
    /// The values for `In` and `NotIn`.
    #[serde(default)]
    pub values: Vec<String>,
}

/// Operators of a label requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum LabelOperator {
    /// The label's value is one of `values`.
    In,
    /// The label is absent or its value is none of `values`.
    NotIn,
    /// The label is present.
    Exists,
    /// The label is absent.
    DoesNotExist,
}

/// Ops' rewording or re-grading of one rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleOverride {
    /// Replaces the rule's `why`.
    pub why: Option<String>,
    /// Replaces the rule's docs link.
    pub docs: Option<String>,
    /// Replaces the rule's severity.
    pub severity: Option<Severity>,
    /// Replaces the policy's mode for this rule.
    pub mode: Option<Mode>,
    /// Replaces the policy's `unfixable` for this rule.
    pub unfixable: Option<Unfixable>,
    /// Replaces the rule's fix safety (`safe`: the webhook may apply its
    /// fixes unattended; `suggestion`: only a person, with `counsel check
    /// --fix=all`).
    #[serde(rename = "fixSafety")]
    pub fix_safety: Option<FixSafety>,
    /// The line the override is on, for messages.
    #[serde(skip)]
    pub line: Option<usize>,
}

/// A configuration that cannot be used. The message names the file, the
/// line where known, the policy and the field.
#[derive(Debug, thiserror::Error)]
#[error("{origin}{}: {message}", line.map(|l| format!(":{l}")).unwrap_or_default())]
pub struct ConfigError {
    /// The file (or the built-in configuration).
    pub origin: Origin,
    /// The line at fault, when known.
    pub line: Option<usize>,
    /// What is wrong, naming the policy and field.
    pub message: String,
}

impl Config {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let origin = Origin::File(path.to_path_buf());
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            origin: origin.clone(),
            line: None,
            message: format!("cannot read the configuration: {e}"),
        })?;
        let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
        raw::parse(&text, origin, &base)
    }

    /// Checks configuration text; module paths are resolved against `base`.
    pub fn parse(text: &str, origin: Origin, base: &Path) -> Result<Config, ConfigError> {
        raw::parse(text, origin, base)
    }

    /// A configuration of the one policy entry at `pointer` in `document`
    /// (read from `origin`; module and settings paths resolved against
    /// `base`), checked as an entry of `policies:` is: `counsel test`'s
    /// suites name their policy this way.
    pub fn of_policy_entry(
        document: &Document,
        pointer: &str,
        origin: Origin,
        base: &Path,
    ) -> Result<Config, ConfigError> {
        let policy = raw::policy_entry(document, pointer, &origin, base)?;
        Ok(Config {
            origin,
            policies: vec![policy],
            exceptions: ExceptionSettings::default(),
        })
    }

    /// The configuration embedded in the binary: the bundled policies.
    pub fn builtin() -> Config {
        raw::parse(DEFAULT_CONFIG, Origin::Builtin, Path::new(""))
            .unwrap_or_else(|e| panic!("the built-in configuration is invalid: {e}"))
    }
}
