//! What `POST /mutate` adds to a review: the machine fixes of `fix`-mode
//! findings, applied to the incoming object and checked again.
//!
//! Only findings whose mode is `fix` are applied (never `warn` or
//! `enforce`), and only fixes that are safe to make unattended
//! ([`FixScope::Safe`]): a fix that is only a suggestion (`runAsNonRoot:
//! true` on an image that runs as root would make a pod the kubelet refuses
//! to start) is for a person, so to the webhook its finding has no machine
//! fix. Fixes that disagree about a field are left out and named.
//! The patched object is reviewed again: when it passes, the answer allows
//! it with a JSON Patch against the original and the patched object's
//! report; otherwise nothing is patched and the original report answers
//! (the usual denial, when something enforced is broken).

use std::time::{Duration, Instant};

use json_patch::Patch;

use crate::config::Mode;
use crate::explain::{Finding, Report};
use crate::fix::{Conflict, FixScope, select};
use crate::request::Admission;
use crate::review::{Context, ReviewError, Reviewer, Scope};

/// A review, with the fixes `/mutate` applies.
#[derive(Debug, Clone)]
pub struct Mutation {
    /// The report the answer is made of: the patched object's when a patch
    /// is returned, otherwise the original's.
    pub report: Report,
    /// The patch, when fixes were applied.
    pub patch: Option<Patch>,
    /// The fix-mode findings (of the original object) whose fixes the patch makes.
    pub applied: Vec<Finding>,
    /// Fixes not applied because they disagree.
    pub conflicts: Vec<Conflict>,
    /// Why fixes that could have been applied were not, when that happened.
    pub not_applied: Option<String>,
}

impl Mutation {
    /// A plain review: nothing applied.
    pub fn unchanged(report: Report) -> Mutation {
        Mutation {
            report,
            patch: None,
            applied: Vec::new(),
            conflicts: Vec::new(),
            not_applied: None,
        }
    }
}

/// Reviews `request` and applies the fixes of its fix-mode findings (see
/// the module docs). `budget` bounds both reviews together.
pub fn mutate(
    reviewer: &Reviewer,
    request: Admission<'_>,
    scope: Scope<'_>,
    budget: Option<Duration>,
    context: &Context<'_>,
) -> Result<Mutation, ReviewError> {
    let started = Instant::now();
    let report = reviewer.review_in(request, scope, budget, context)?;
    // Only an object on its way in can be patched (not a DELETE's old
    // object), and only fix-mode findings with fixes need the whole of it.
    let fixable = report
        .findings_in(Mode::Fix)
        .any(Finding::has_unattended_fix);
    if request.request().object.is_none() || !fixable {
        return Ok(Mutation::unchanged(report));
    }
    let whole = match request.whole() {
        Ok(whole) => whole,
        Err(error) => {
            tracing::warn!("the object could not be read again to fix it: {error}");
            return Ok(Mutation {
                not_applied: Some(format!("the object could not be read: {error}")),
                ..Mutation::unchanged(report)
            });
        }
    };
    let Some(original) = whole.object.as_ref() else {
        return Ok(Mutation::unchanged(report));
    };
    let selection = select(
        report.findings_in(Mode::Fix),
        Some(original),
        FixScope::Safe,
    );
    let conflicts = selection.conflicts.clone();
    let applied: Vec<Finding> = selection.fixed.iter().map(|f| (*f).clone()).collect();
    if selection.edits.is_empty() {
        return Ok(Mutation {
            conflicts,
            ..Mutation::unchanged(report)
        });
    }
    let refused = |report: Report, why: String| Mutation {
        report,
        patch: None,
        applied: Vec::new(),
        conflicts: conflicts.clone(),
        not_applied: Some(why),
    };
    let patch = match crate::patch::json_patch(original, &selection.edits) {
        Ok(patch) => patch,
        Err(error) => {
            tracing::warn!("fixes could not be made into a patch: {error}");
            return Ok(refused(report, format!("the fixes do not apply: {error}")));
        }
    };
    let mut patched = original.clone();
    if let Err(error) = json_patch::patch(&mut patched, &patch) {
        tracing::warn!("the patch made from fixes does not apply: {error}");
        return Ok(refused(report, format!("the fixes do not apply: {error}")));
    }
    // A request of its own: policies get the patched object serialised.
    let mut patched_request = whole.into_owned();
    patched_request.object = Some(patched);
    let remaining = budget.map(|b| b.saturating_sub(started.elapsed()));
    let after = reviewer.review_in(&patched_request, scope, remaining, context)?;
    if !after.allowed() {
        let why = if after.failures.is_empty() {
            "the object would still break enforced rules after them"
        } else {
            "a policy failed to check the fixed object"
        };
        return Ok(refused(report, why.to_owned()));
    }
    Ok(Mutation {
        report: after,
        patch: Some(patch),
        applied,
        conflicts,
        not_applied: None,
    })
}
