//! What `POST /mutate` adds to a review: the webhook's remedy
//! ([`Remedy::WEBHOOK`]: the safe machine fixes of `fix`-mode findings,
//! made in the incoming object and checked again), as a JSON Patch against
//! the original. When the fixed object passes, the answer allows it with the
//! patch and the fixed object's report; otherwise nothing is patched and the
//! original report answers (the usual denial, when something enforced is
//! broken).

use std::time::Duration;

use json_patch::Patch;

use crate::remedy::{Remedied, Remedy};
use crate::request::Admission;
use crate::review::{Context, ReviewError, Reviewer, Scope};

/// A review, with the fixes `/mutate` applies as a JSON Patch (`fix`).
pub type Mutation = Remedied<Patch>;

/// Reviews `request` with the webhook's remedy and makes its fixes a JSON
/// Patch (see the module docs). `budget` bounds both reviews together.
pub fn mutate(
    reviewer: &Reviewer,
    request: Admission<'_>,
    scope: Scope<'_>,
    budget: Option<Duration>,
    context: &Context<'_>,
) -> Result<Mutation, ReviewError> {
    let Remedied {
        report,
        fix,
        applied,
        conflicts,
        not_applied,
    } = Remedy::WEBHOOK.review(reviewer, request, scope, budget, context)?;
    let Some(fixed) = fix else {
        return Ok(Mutation {
            report,
            fix: None,
            applied,
            conflicts,
            not_applied,
        });
    };
    Ok(
        match crate::patch::json_patch(&fixed.original, &fixed.edits) {
            Ok(patch) => Mutation {
                report,
                fix: Some(patch),
                applied,
                conflicts,
                not_applied,
            },
            Err(error) => {
                tracing::warn!("fixes could not be made into a patch: {error}");
                Mutation {
                    not_applied: Some(format!("the fixes do not apply: {error}")),
                    conflicts,
                    ..Mutation::unchanged(fixed.before)
                }
            }
        },
    )
}
