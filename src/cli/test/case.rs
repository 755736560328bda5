//! One case run: the object reviewed by the same `Reviewer` as `counsel
//! check`, its fixes chosen by the same `Remedy` as `counsel check --fix`,
//! and what came of it compared with what the case expects.

use std::time::SystemTime;

use counsel::explain::{Finding, Report};
use counsel::remedy::Remedy;
use counsel::request::Request;
use counsel::review::{Context, ReviewError, Reviewer, Scope};
use serde_json::Value;

use super::suite::{Case, ExpectedFinding, Suite};

/// What a case came to.
pub struct Ran {
    /// The review of the object.
    pub report: Report,
    /// The object after the fixes, when the case expects one.
    pub fixed: Option<Value>,
    /// How it differs from what was expected; empty: the case passed.
    pub mismatches: Vec<Mismatch>,
}

/// One way a case's outcome differs from its expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mismatch {
    /// Allowed when it should be denied, or the other way round.
    Allowed {
        /// What the case expects.
        expected: bool,
    },
    /// An expected finding that is not there.
    Missing(ExpectedFinding),
    /// A finding no expectation matches.
    Unexpected {
        /// `rule at field (mode): message`.
        finding: String,
    },
    /// A policy failed to judge the object.
    Failed(String),
    /// The fixed object is not the one expected: a unified diff of their
    /// JSON, expected first.
    Fixed {
        /// The diff.
        diff: String,
    },
}

impl std::fmt::Display for Mismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verdict = |allowed: bool| if allowed { "allowed" } else { "denied" };
        match self {
            Mismatch::Allowed { expected } => write!(
                f,
                "expected {}, got {}",
                verdict(*expected),
                verdict(!*expected)
            ),
            Mismatch::Missing(expected) => write!(f, "expected finding not found: {expected}"),
            Mismatch::Unexpected { finding } => write!(f, "unexpected finding: {finding}"),
            Mismatch::Failed(message) => write!(f, "the policy failed: {message}"),
            Mismatch::Fixed { diff } => {
                write!(
                    f,
                    "the object after --fix differs (- expected, + got):\n{diff}"
                )
            }
        }
    }
}

/// Runs `case` of `suite` with `reviewer` (the suite's policy, loaded).
pub fn run(suite: &Suite, case: &Case, reviewer: &Reviewer) -> Result<Ran, ReviewError> {
    let mut request = Request::for_manifest(
        case.object.clone(),
        case.operation,
        case.namespace.as_deref(),
    );
    if let Some(old) = &case.old_object {
        request.old_object = Some(old.clone());
    }
    let namespace = request
        .namespace
        .as_deref()
        .and_then(|name| suite.namespaces.iter().find(|ns| ns.name == name));
    let context = Context {
        namespace,
        now: SystemTime::now(),
        exceptions: None,
    };
    let report = reviewer.review_in(&request, Scope::All, None, &context)?;
    let mut mismatches = Vec::new();
    if report.allowed() != case.expect.allowed {
        mismatches.push(Mismatch::Allowed {
            expected: case.expect.allowed,
        });
    }
    mismatches.extend(
        report
            .failures
            .iter()
            .map(|f| Mismatch::Failed(f.sentence())),
    );
    compare_findings(&case.expect.findings, &report.findings, &mut mismatches);
    let fixed = case.expect.fixed.as_ref().map(|expected| {
        let fixed = fix(&report, &case.object, case);
        if &fixed != expected {
            mismatches.push(Mismatch::Fixed {
                diff: diff(expected, &fixed),
            });
        }
        fixed
    });
    Ok(Ran {
        report,
        fixed,
        mismatches,
    })
}

/// Matches every finding with at most one expectation, the most precise
/// expectations first; what is left on either side is a mismatch.
fn compare_findings(
    expected: &[ExpectedFinding],
    found: &[Finding],
    mismatches: &mut Vec<Mismatch>,
) {
    let mut order: Vec<&ExpectedFinding> = expected.iter().collect();
    order.sort_by_key(|e| std::cmp::Reverse(e.precision()));
    let mut taken = vec![false; found.len()];
    for expectation in order {
        let matched = found
            .iter()
            .enumerate()
            .find(|(i, finding)| !taken[*i] && matches(expectation, finding));
        match matched {
            Some((i, _)) => taken[i] = true,
            None => mismatches.push(Mismatch::Missing(expectation.clone())),
        }
    }
    for (finding, _) in found.iter().zip(taken).filter(|(_, taken)| !taken) {
        mismatches.push(Mismatch::Unexpected {
            finding: describe(finding),
        });
    }
}

fn matches(expected: &ExpectedFinding, finding: &Finding) -> bool {
    expected.rule == finding.rule
        && expected.field.as_ref().is_none_or(|f| *f == finding.field)
        && expected.path.as_ref().is_none_or(|p| *p == finding.pointer)
        && expected.mode.is_none_or(|m| m == finding.mode)
}

/// `rule at field (mode): message`, as a mismatch names a finding.
pub fn describe(finding: &Finding) -> String {
    format!(
        "{} at {} ({}): {}",
        finding.rule,
        finding.field,
        finding.mode.as_str(),
        finding.message
    )
}

/// The object with the fixes `counsel check --fix` (or `--fix=all`, per
/// the case) would make: chosen by its remedy, made as edits. Fixes that
/// do not apply leave the object as it was, which the comparison shows.
fn fix(report: &Report, object: &Value, case: &Case) -> Value {
    let selection = Remedy::check(case.fix).select(&report.findings, object);
    let mut fixed = object.clone();
    if counsel_edit::apply(&mut fixed, &selection.edits).is_err() {
        return object.clone();
    }
    fixed
}

/// A unified diff of two objects' JSON, pretty-printed, keys sorted.
fn diff(expected: &Value, got: &Value) -> String {
    let text = |value: &Value| {
        let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
        text.push('\n');
        text
    };
    let (expected, got) = (text(expected), text(got));
    similar::TextDiff::from_lines(&expected, &got)
        .unified_diff()
        .context_radius(3)
        .to_string()
}
