//! What a policy says about itself: its metadata and rule catalog.

use serde::{Deserialize, Serialize};

/// How much a broken rule matters, most severe last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth fixing when convenient.
    Low,
    /// Should be fixed.
    Medium,
    /// Must be fixed; a real risk.
    High,
    /// Must be fixed now; an attacker's open door.
    Critical,
}

impl Severity {
    /// The lower-case name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// How far a rule's machine fixes can be trusted without a person.
///
/// Counsel's mutating webhook (`fix` mode) makes only [`FixSafety::Safe`]
/// fixes; `counsel check --fix` makes them too, and suggestions only when
/// the developer asks (`--fix=all`). Ops may override it per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FixSafety {
    /// A typical workload still starts and works as before with the fix, so
    /// it may be applied unattended.
    Safe,
    /// Whether the workload still starts or works depends on the image or
    /// the program; only a person should apply it. The default: a rule's
    /// author has to say that its fixes are safe.
    Suggestion,
}

impl FixSafety {
    /// The lower-case name (`safe`).
    pub fn as_str(self) -> &'static str {
        match self {
            FixSafety::Safe => "safe",
            FixSafety::Suggestion => "suggestion",
        }
    }
}

/// One rule in a policy's catalog.
///
/// In a policy, rules are static data, so every text is `&'static str` and
/// the builder is `const`: declare each rule once as a constant and refer to
/// its `id` when reporting. The host holds the catalog it read from a
/// component as `Rule<String>`.
///
/// ```
/// use counsel_contract::{FixSafety, Rule, Severity};
///
/// const PRIVILEGED: Rule = Rule::new(
///     "privileged",
///     "Containers must not run privileged",
///     "A privileged container can do anything the node can do.",
/// )
/// .docs("https://kubernetes.io/docs/concepts/security/pod-security-standards/")
/// .severity(Severity::Critical)
/// .fix_safety(FixSafety::Safe);
///
/// assert_eq!(PRIVILEGED.id, "privileged");
/// assert_eq!(PRIVILEGED.severity, Severity::Critical);
/// assert_eq!(PRIVILEGED.fix_safety, FixSafety::Safe);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Rule<Text = &'static str> {
    /// Stable kebab-case identifier; violations name it.
    pub id: Text,
    /// One line saying what the rule requires.
    pub title: Text,
    /// Why ops care, in plain words a developer understands in one reading.
    pub why: Text,
    /// Where to read more.
    pub docs: Option<Text>,
    /// Severity unless configuration says otherwise.
    pub severity: Severity,
    /// Whether its fixes may be applied unattended, unless configuration
    /// says otherwise.
    pub fix_safety: FixSafety,
}

impl Rule {
    /// A rule with no docs link, [`Severity::Medium`] and fixes that are
    /// [`FixSafety::Suggestion`]s.
    pub const fn new(id: &'static str, title: &'static str, why: &'static str) -> Rule {
        Rule {
            id,
            title,
            why,
            docs: None,
            severity: Severity::Medium,
            fix_safety: FixSafety::Suggestion,
        }
    }

    /// Sets where to read more.
    pub const fn docs(self, url: &'static str) -> Rule {
        Rule {
            docs: Some(url),
            ..self
        }
    }

    /// Sets the default severity.
    pub const fn severity(self, severity: Severity) -> Rule {
        Rule { severity, ..self }
    }

    /// Sets how safe the rule's fixes are to apply unattended. Say
    /// [`FixSafety::Safe`] only when a typical workload keeps starting and
    /// working with the fix, whatever its image; the rule's `why` is the
    /// place to say why.
    pub const fn fix_safety(self, fix_safety: FixSafety) -> Rule {
        Rule { fix_safety, ..self }
    }
}

/// The rule every policy reports when a field has the wrong type.
///
/// The SDK appends it to every catalog ([`Metadata::with_builtin_rules`]), so
/// policies never list it themselves.
pub const INVALID_FIELD: Rule = Rule::new(
    "invalid-field",
    "Fields must have the type Kubernetes expects",
    "A field of the wrong type makes the object invalid, and a policy cannot check what it \
     cannot read: the object is refused rather than let through unchecked.",
)
.docs("https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/pod-v1/")
.severity(Severity::High);

/// What a policy says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata<Text = &'static str> {
    /// Short kebab-case name (`container-security`).
    pub name: String,
    /// The policy's own version (semver); `env!("CARGO_PKG_VERSION")` is usual.
    pub version: String,
    /// One or two sentences for the ops engineer choosing policies.
    pub description: String,
    /// Kinds the policy applies to by default; empty means every kind.
    pub kinds: Vec<String>,
    /// Every rule the policy can report (in a policy's own code, without
    /// [`INVALID_FIELD`]).
    pub rules: Vec<Rule<Text>>,
}

impl<Text: AsRef<str>> Metadata<Text> {
    /// The rule with this id, if the catalog has it.
    pub fn rule(&self, id: &str) -> Option<&Rule<Text>> {
        self.rules.iter().find(|rule| rule.id.as_ref() == id)
    }
}

impl Metadata {
    /// The catalog as Counsel sees it: these rules plus [`INVALID_FIELD`]
    /// (unless the policy already lists a rule with that id).
    pub fn with_builtin_rules(mut self) -> Metadata {
        if self.rule(INVALID_FIELD.id).is_none() {
            self.rules.push(INVALID_FIELD);
        }
        self
    }
}

#[cfg(test)]
mod tests;
