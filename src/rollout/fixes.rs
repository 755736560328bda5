//! What `counsel check --fix` would do for an object the plan denies: the
//! fixes [`Remedy::check`] chooses, made in the object, and the fixed object
//! judged again, as `counsel check --fix` judges the fixed file. A finding
//! is closed when the fixed object no longer has it.

use std::collections::HashSet;

use counsel_edit::Edit;
use serde_json::Value;

use super::{Effect, Judgement};
use crate::config::Mode;
use crate::explain::{Finding, Report};
use crate::remedy::Remedy;
use crate::request::Request;
use crate::review::{Context, Reviewer, Scope};

/// One fix as a change of the object: `field: from → to`.
#[derive(Debug, Clone, PartialEq)]
pub struct FixChange {
    /// The field as a developer reads it.
    pub field: String,
    /// Its value now; `None` when it is not set.
    pub from: Option<Value>,
    /// Its value after the fix; `None` when the fix removes it.
    pub to: Option<Value>,
}

impl FixChange {
    /// The fixes of `finding`, read against `object`.
    pub fn of(finding: &Finding, object: &Value) -> Vec<FixChange> {
        finding
            .fixes_with_fields()
            .map(|(edit, field)| FixChange {
                field: field.to_owned(),
                from: object.pointer(edit.path()).cloned(),
                to: match edit {
                    Edit::Set { value, .. } => Some(value.clone()),
                    Edit::Remove { .. } => None,
                },
            })
            .collect()
    }
}

/// Marks which of `judgement`'s denying findings `--fix` closes, and
/// whether it makes the object pass.
pub(super) fn close(
    reviewer: &Reviewer,
    remedy: Remedy,
    request: &Request,
    report: &Report,
    context: &Context<'_>,
    judgement: &mut Judgement,
) {
    let Some(object) = request.object.as_ref() else {
        return;
    };
    let selection = remedy.select(&report.findings, object);
    if selection.edits.is_empty() {
        return;
    }
    let mut fixed = object.clone();
    if let Err(error) = counsel_edit::apply(&mut fixed, &selection.edits) {
        tracing::warn!(object = %report.object.describe(), "the fixes do not apply: {error}");
        return;
    }
    let mut fixed_request = request.clone();
    fixed_request.object = Some(fixed);
    let Ok(after) = reviewer.review_in(&fixed_request, Scope::All, None, context) else {
        return;
    };
    let left: HashSet<(&str, &str, &str)> = after
        .findings_in(Mode::Enforce)
        .map(|f| (f.policy.as_str(), f.rule.as_str(), f.pointer.as_str()))
        .collect();
    for judged in &mut judgement.findings {
        let f = &judged.finding;
        judged.closed_by_fix = judged.planned == Effect::Deny
            && !left.contains(&(f.policy.as_str(), f.rule.as_str(), f.pointer.as_str()));
    }
    judgement.closed_by_fix = after.allowed();
}
