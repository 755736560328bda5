//! The sink of an evaluation: every violation its rules find, and every
//! wrongly typed field its reads meet (see [`Node`](crate::Node)).

use std::collections::BTreeSet;

use crate::INVALID_FIELD;
use crate::verdict::Violation;

/// The violations an evaluation finds, in order: the sink every typed read
/// reports to. `invalid-field` violations are kept once per pointer.
#[derive(Debug, Default)]
pub struct Findings {
    violations: Vec<Violation>,
    invalid: BTreeSet<String>,
}

impl Findings {
    /// Records a violation; an `invalid-field` one only if none is recorded
    /// at its pointer yet.
    pub fn push(&mut self, violation: Violation) {
        if violation.rule != INVALID_FIELD.id || self.invalid.insert(violation.path.clone()) {
            self.violations.push(violation);
        }
    }

    /// The value of a typed read of the [`field`](crate::field) module,
    /// recording its `invalid-field` violation.
    pub fn read<T>(&mut self, read: Result<Option<T>, Violation>) -> Option<T> {
        read.unwrap_or_else(|problem| {
            self.push(problem);
            None
        })
    }

    /// The violations so far.
    pub fn violations(&self) -> &[Violation] {
        &self.violations
    }

    /// The violations, in the order they were found.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}

/// The verdict of the violations found (`out.into()` at the end of
/// `validate`).
impl From<Findings> for crate::Verdict {
    fn from(findings: Findings) -> crate::Verdict {
        crate::Verdict {
            violations: findings.violations,
            warnings: Vec::new(),
        }
    }
}

impl IntoIterator for Findings {
    type Item = Violation;
    type IntoIter = std::vec::IntoIter<Violation>;

    /// The violations, in the order they were found (`verdict.extend(findings)`).
    fn into_iter(self) -> Self::IntoIter {
        self.violations.into_iter()
    }
}

impl Extend<Violation> for Findings {
    /// Records each violation ([`Findings::push`]).
    fn extend<I: IntoIterator<Item = Violation>>(&mut self, violations: I) {
        for violation in violations {
            self.push(violation);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Rule, json, violation};

    const RULE: Rule = Rule::new("rule", "A rule", "Why.");

    #[test]
    fn findings_keep_other_rules_every_time_and_invalid_fields_once() {
        let mut out = Findings::default();
        out.push(violation(&RULE).at("/a"));
        out.push(violation(&RULE).at("/a"));
        let bad = crate::invalid_field("/a", &json!(1), "a string");
        out.extend([bad.clone(), bad]);
        assert_eq!(
            out.read::<bool>(Err(crate::invalid_field("/a", &json!(1), "a string"))),
            None
        );
        assert_eq!(out.read(Ok(Some(3))), Some(3));
        let rules: Vec<_> = out.into_violations().into_iter().map(|v| v.rule).collect();
        assert_eq!(rules, ["rule", "rule", "invalid-field"]);
    }
}
