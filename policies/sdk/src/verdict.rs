//! What a policy answers: violations (built with [`violation`]) and warnings.
//!
//! [`Verdict`] and [`Violation`] are the contract's own types
//! (`counsel-contract`), shared with Counsel; this module adds how a policy
//! starts a violation and how much of a verdict crosses to Counsel.

use serde_json::Value;

pub use counsel_contract::{Place, Verdict, Violation};

use crate::catalog::{INVALID_FIELD, Rule};
use crate::request::type_name;

/// Starts a violation of `rule` (at the object's root until [`Violation::at`]).
///
/// `rule` is the rule's constant (`&PRIVILEGED`), so a misspelt rule does
/// not compile; a rule id (`"privileged"`) is accepted too, for rules a
/// policy reads from its settings.
///
/// ```
/// use counsel_policy::{json, violation, Edit, Rule};
///
/// const PRIVILEGED: Rule = Rule::new("privileged", "No privileged containers", "...");
///
/// let path = "/spec/containers/0/securityContext/privileged";
/// let v = violation(&PRIVILEGED)
///     .at(path)
///     .message(r#"container "app" runs privileged"#)
///     .found(&json!(true))
///     .fix_to(false);
/// assert_eq!(v.rule, "privileged");
/// assert_eq!(v.found, Some(json!(true)));
/// assert_eq!(v.fixes, [Edit::set(path, json!(false))]);
/// ```
pub fn violation(rule: &(impl RuleId + ?Sized)) -> Violation {
    Violation::new(rule.rule_id())
}

/// What [`violation`] takes to name a rule: a [`Rule`] constant, or its id.
pub trait RuleId {
    /// The rule's id.
    fn rule_id(&self) -> &str;
}

impl RuleId for Rule {
    fn rule_id(&self) -> &str {
        self.id
    }
}

impl RuleId for str {
    fn rule_id(&self) -> &str {
        self
    }
}

impl RuleId for String {
    fn rule_id(&self) -> &str {
        self
    }
}

/// The built-in `invalid-field` violation: `found` at `pointer` is not
/// `expected` (`an object`, `an array`, `a boolean`, `a string`, ...).
pub fn invalid_field(pointer: &str, found: &Value, expected: &str) -> Violation {
    violation(&INVALID_FIELD)
        .at(pointer)
        .message(format!(
            "`{pointer}` must be {expected}, but it is {}",
            type_name(found)
        ))
        .found(found)
        .hint(format!(
            "Kubernetes expects {expected} here; correct the manifest so it can be checked."
        ))
}

/// The most violations one verdict carries to Counsel; the rest are counted
/// per rule (`omitted` in the contract) and reported as "N more". An
/// object can break a rule once per container, and a pod may have hundreds
/// of containers: the answer must stay small enough for Counsel to take it
/// (it refuses verdicts over 1 MiB as a policy failure) and for a person to
/// read it. [`export_policy!`](crate::export_policy) applies these caps;
/// a policy's own code never needs to.
pub const MAX_VIOLATIONS: usize = 100;
/// The most violations of one rule a verdict carries, so that the first
/// violations shown cover every rule broken, not only the first.
pub const MAX_VIOLATIONS_PER_RULE: usize = 20;
/// The most bytes of text the violations of one verdict carry (counted as
/// Counsel counts them), a quarter of Counsel's 1 MiB cap: a violation that
/// would go over is counted as omitted instead.
pub const MAX_VIOLATION_BYTES: usize = 256 * 1024;

#[cfg(test)]
mod tests {
    use super::*;
    use counsel_edit::Edit;
    use serde_json::json;

    #[test]
    fn builder_fills_every_field_in_order() {
        let v = violation("no-latest")
            .at("/spec/containers/1/image")
            .message(r#"container "web" uses the tag "latest""#)
            .found(&json!("nginx:latest"))
            .fix_set("/spec/containers/1/image", json!("nginx:1.27"))
            .fix_remove("/metadata/annotations/x")
            .hint("Pin a version.")
            .docs("https://example.com/images");
        assert_eq!(
            v,
            Violation {
                rule: "no-latest".into(),
                message: r#"container "web" uses the tag "latest""#.into(),
                path: "/spec/containers/1/image".into(),
                found: Some(json!("nginx:latest")),
                fixes: vec![
                    Edit::set("/spec/containers/1/image", json!("nginx:1.27")),
                    Edit::remove("/metadata/annotations/x"),
                ],
                hint: Some("Pin a version.".into()),
                docs: Some("https://example.com/images".into()),
            }
        );
    }

    #[test]
    fn found_opt_records_absence() {
        let v = violation("r").found(&json!(1)).found_opt(None);
        assert_eq!(v.found, None);
        let v = violation("r").found_opt(Some(&json!(false)));
        assert_eq!(v.found, Some(json!(false)));
    }

    #[test]
    fn invalid_field_names_pointer_and_both_types() {
        let v = invalid_field("/spec/containers", &json!({"name": "app"}), "an array");
        assert_eq!(v.rule, "invalid-field");
        assert_eq!(v.path, "/spec/containers");
        assert_eq!(
            v.message,
            "`/spec/containers` must be an array, but it is an object"
        );
        assert_eq!(v.found, Some(json!({"name": "app"})));
        assert!(v.fixes.is_empty());
    }

    #[test]
    fn verdict_collects_violations_and_warnings() {
        let mut verdict = Verdict::default();
        assert!(verdict.passed());
        verdict.warn("image pulled from docker.io");
        assert!(verdict.passed());
        verdict.push(violation("a"));
        verdict.extend([violation("b"), violation("c")]);
        let rules: Vec<_> = verdict.violations.iter().map(|v| v.rule.as_str()).collect();
        assert_eq!(rules, ["a", "b", "c"]);
        assert_eq!(verdict.warnings, ["image pulled from docker.io"]);
        assert!(!verdict.passed());
    }
}
