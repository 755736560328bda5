//! What a policy says about itself: its metadata and rule catalog.

/// How much a broken rule matters, most severe last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

/// How far a rule's machine fixes can be trusted without a person.
///
/// Counsel's mutating webhook (`fix` mode) makes only [`FixSafety::Safe`]
/// fixes; `counsel check --fix` makes them too, and suggestions only when
/// the developer asks (`--fix=all`). Ops may override it per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FixSafety {
    /// A typical workload still starts and works as before with the fix, so
    /// it may be applied unattended.
    Safe,
    /// Whether the workload still starts or works depends on the image or
    /// the program; only a person should apply it. The default: a rule's
    /// author has to say that its fixes are safe.
    Suggestion,
}

/// One rule in a policy's catalog.
///
/// Rules are static data, so every text is `&'static str` and the builder is
/// `const`: declare each rule once as a constant and refer to its `id` when
/// reporting.
///
/// ```
/// use counsel_policy::{FixSafety, Rule, Severity};
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
pub struct Rule {
    /// Stable kebab-case identifier; violations name it.
    pub id: &'static str,
    /// One line saying what the rule requires.
    pub title: &'static str,
    /// Why ops care, in plain words a developer understands in one reading.
    pub why: &'static str,
    /// Where to read more.
    pub docs: Option<&'static str>,
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
/// [`export_policy!`](crate::export_policy) appends it to every catalog, so
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
pub struct Metadata {
    /// Short kebab-case name (`container-security`).
    pub name: String,
    /// The policy's own version (semver); `env!("CARGO_PKG_VERSION")` is usual.
    pub version: String,
    /// One or two sentences for the ops engineer choosing policies.
    pub description: String,
    /// Kinds the policy applies to by default; empty means every kind.
    pub kinds: Vec<String>,
    /// Every rule the policy can report (without [`INVALID_FIELD`]).
    pub rules: Vec<Rule>,
}

impl Metadata {
    /// The rule with this id, if the catalog has it.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }

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
mod tests {
    use super::*;

    #[test]
    fn builder_sets_every_field() {
        const RULE: Rule = Rule::new("x", "X must hold", "Because.")
            .docs("https://example.com/x")
            .severity(Severity::Low)
            .fix_safety(FixSafety::Safe);
        assert_eq!(
            RULE,
            Rule {
                id: "x",
                title: "X must hold",
                why: "Because.",
                docs: Some("https://example.com/x"),
                severity: Severity::Low,
                fix_safety: FixSafety::Safe,
            }
        );
        assert_eq!(Rule::new("y", "t", "w").severity, Severity::Medium);
        assert_eq!(Rule::new("y", "t", "w").fix_safety, FixSafety::Suggestion);
        assert_eq!(Rule::new("y", "t", "w").docs, None);
    }

    #[test]
    fn severities_order_from_low_to_critical() {
        assert!(Severity::Low < Severity::Medium);
        assert!(Severity::Medium < Severity::High);
        assert!(Severity::High < Severity::Critical);
    }

    #[test]
    fn builtin_rule_is_appended_once() {
        let metadata = Metadata {
            name: "p".into(),
            version: "1.0.0".into(),
            description: "d".into(),
            kinds: vec![],
            rules: vec![Rule::new("a", "t", "w")],
        };
        let full = metadata.clone().with_builtin_rules();
        let ids: Vec<_> = full.rules.iter().map(|r| r.id).collect();
        assert_eq!(ids, ["a", "invalid-field"]);
        assert_eq!(full.clone().with_builtin_rules(), full);
        assert_eq!(metadata.rule("a").map(|r| r.title), Some("t"));
        assert_eq!(metadata.rule("b"), None);
    }
}
