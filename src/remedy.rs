//! One remedy step: which findings of a review get fixed, and the fixed
//! object judged again. The mutating webhook and `counsel check --fix` both
//! decide here; they differ only in what they make of the chosen edits (a
//! JSON Patch, `server/mutate.rs`; minimal text edits in the developer's
//! file, [`crate::fix`]).
//!
//! A [`Remedy`] says whose remedy it is: the webhook fixes only `fix`-mode
//! findings, and only with fixes safe to make unattended ([`FixScope::Safe`]):
//! a fix that is only a suggestion (`runAsNonRoot: true` on an image that
//! runs as root would make a pod the kubelet refuses to start) is for a
//! person. `counsel check --fix` fixes `enforce`, `warn` and `fix`-mode
//! findings (audit findings are for ops), safe fixes unless `--fix=all`.
//! What a `fix`-mode finding without a fix becomes (`unfixable`) is decided
//! once, when the finding is made (`Finding::new`). Fixes that disagree about
//! a field are left out and named ([`Conflict`]).
//!
//! [`Remedy::review`] reviews a request, applies the chosen edits to its
//! object and reviews the fixed object again, keeping the fixes only when
//! the fixed object passes (the webhook). `counsel check --fix` selects here
//! ([`Remedy::select`]) and judges again by checking the fixed file: the text
//! editor may refuse an edit, so the new text, not the edits, is what is
//! judged.

mod select;

use std::time::{Duration, Instant};

use counsel_edit::Edit;
use serde_json::Value;

use crate::config::Mode;
use crate::explain::{Finding, Report};
use crate::request::Admission;
use crate::review::{Context, ReviewError, Reviewer, Scope};

pub use select::{Conflict, FixScope, Selection, select};

/// Whose remedy: which findings it fixes, with which fixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remedy {
    modes: &'static [Mode],
    scope: FixScope,
}

impl Remedy {
    /// The mutating webhook's: `fix`-mode findings, safe fixes.
    pub const WEBHOOK: Remedy = Remedy {
        modes: &[Mode::Fix],
        scope: FixScope::Safe,
    };

    /// `counsel check --fix`'s: `enforce`, `warn` and `fix`-mode findings,
    /// with the fixes `scope` allows.
    pub const fn check(scope: FixScope) -> Remedy {
        Remedy {
            modes: &[Mode::Enforce, Mode::Warn, Mode::Fix],
            scope,
        }
    }

    /// Whether `finding` is one of those this remedy fixes: by its mode,
    /// and never what a live exception lets through (left as it is).
    pub fn covers(&self, finding: &Finding) -> bool {
        self.modes.contains(&finding.mode) && finding.excepted_by().is_none()
    }

    /// The fixes to make in `object`, chosen among the fixes of `findings`
    /// (the object's) that this remedy covers; see [`select`].
    pub fn select<'a>(&self, findings: &'a [Finding], object: &Value) -> Selection<'a> {
        let covered = findings.iter().filter(|finding| self.covers(finding));
        select(covered, Some(object), self.scope)
    }

    /// Whether `report` has a finding this remedy would fix.
    fn has_fixes(&self, report: &Report) -> bool {
        report.findings.iter().any(|finding| {
            self.covers(finding)
                && !finding.fixes.is_empty()
                && self.scope.allows(finding.fix_safety)
        })
    }

    /// Reviews `request`, makes the chosen fixes in its object and reviews
    /// the fixed object again (see the module docs), both in `context`.
    /// `budget` bounds both reviews together.
    pub fn review(
        &self,
        reviewer: &Reviewer,
        request: Admission<'_>,
        scope: Scope<'_>,
        budget: Option<Duration>,
        context: &Context<'_>,
    ) -> Result<Remedied, ReviewError> {
        let started = Instant::now();
        let report = reviewer.review_in(request, scope, budget, context)?;
        // Only an object on its way in can be fixed (not a DELETE's old
        // object), and only findings with fixes need the whole of it.
        if request.request().object.is_none() || !self.has_fixes(&report) {
            return Ok(Remedied::unchanged(report));
        }
        let whole = match request.whole() {
            Ok(whole) => whole,
            Err(error) => {
                tracing::warn!("the object could not be read again to fix it: {error}");
                return Ok(Remedied {
                    not_applied: Some(format!("the object could not be read: {error}")),
                    ..Remedied::unchanged(report)
                });
            }
        };
        let Some(original) = whole.object.as_ref() else {
            return Ok(Remedied::unchanged(report));
        };
        let selection = self.select(&report.findings, original);
        let conflicts = selection.conflicts.clone();
        let applied: Vec<Finding> = selection.fixed.iter().map(|f| (*f).clone()).collect();
        if selection.edits.is_empty() {
            return Ok(Remedied {
                conflicts,
                ..Remedied::unchanged(report)
            });
        }
        let edits = selection.edits;
        let refused = |report: Report, why: String| Remedied {
            report,
            fix: None,
            applied: Vec::new(),
            conflicts: conflicts.clone(),
            not_applied: Some(why),
        };
        let mut fixed = original.clone();
        if let Err(error) = counsel_edit::apply(&mut fixed, &edits) {
            tracing::warn!("the fixes do not apply: {error}");
            return Ok(refused(report, format!("the fixes do not apply: {error}")));
        }
        // A request of its own: policies get the fixed object serialised.
        let original = original.clone();
        let mut fixed_request = whole.into_owned();
        fixed_request.object = Some(fixed);
        let remaining = budget.map(|b| b.saturating_sub(started.elapsed()));
        let after = reviewer.review_in(&fixed_request, scope, remaining, context)?;
        if !after.allowed() {
            let why = if after.failures.is_empty() {
                "the object would still break enforced rules after them"
            } else {
                "a policy failed to check the fixed object"
            };
            return Ok(refused(report, why.to_owned()));
        }
        Ok(Remedied {
            report: after,
            fix: Some(Fixed {
                original,
                edits,
                before: report,
            }),
            applied,
            conflicts,
            not_applied: None,
        })
    }
}

/// A review with a remedy; `F` is what the fixes were made into (the
/// edits, [`Fixed`]; a JSON Patch for `/mutate`).
#[derive(Debug, Clone)]
pub struct Remedied<F = Fixed> {
    /// The report the answer is made of: the fixed object's when it was
    /// fixed, otherwise the original's.
    pub report: Report,
    /// The fixes made, when the fixed object passed.
    pub fix: Option<F>,
    /// The findings (of the original object) whose fixes were made.
    pub applied: Vec<Finding>,
    /// Fixes not made because they disagree.
    pub conflicts: Vec<Conflict>,
    /// Why fixes that could have been made were not, when that happened.
    pub not_applied: Option<String>,
}

impl<F> Remedied<F> {
    /// A plain review: nothing fixed.
    pub fn unchanged(report: Report) -> Remedied<F> {
        Remedied {
            report,
            fix: None,
            applied: Vec::new(),
            conflicts: Vec::new(),
            not_applied: None,
        }
    }
}

/// The fixes made to an object, with what was judged before them.
#[derive(Debug, Clone)]
pub struct Fixed {
    /// The object as it was.
    pub original: Value,
    /// The edits made to it, in order.
    pub edits: Vec<Edit>,
    /// The original object's report.
    pub before: Report,
}
