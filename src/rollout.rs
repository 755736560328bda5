//! The rollout report (`counsel audit`): what already runs and would be
//! denied if policies were enforced (or put in another mode), per policy and
//! rule, namespace and owner, and how much of it `counsel check --fix`
//! would close.
//!
//! The objects come from wherever the caller found them (files, a cluster's
//! lists); each is judged once, by the [`Reviewer`] of the *planned*
//! configuration ([`Plan::configure`]: the modes changed, nothing else), as
//! a CREATE in its namespace's [`Context`]. What the *current* modes would
//! do with the same finding is asked of the finding itself
//! ([`Finding::mode_under`]), so both answers come from one evaluation and
//! are decided where the webhook decides them. The fixes are chosen by
//! [`Remedy::check`] and the fixed object is judged again (`fixes.rs`).
//!
//! This module knows nothing of terminals, formats or Kubernetes clients:
//! renderers read a finished [`Rollout`].

mod fixes;
mod plan;
mod summary;

use std::collections::BTreeSet;

use serde_json::Value;

use crate::config::{Config, FailurePolicy, Mode};
use crate::explain::{Finding, ObjectRef};
use crate::remedy::{FixScope, Remedy};
use crate::request::{Operation, Request};
use crate::review::{Context, Namespace, OWNER_ANNOTATION, Reviewer, Scope};

pub use fixes::FixChange;
pub use plan::{ModeChange, Plan, PlanError};
pub use summary::{OwnerPart, RuleSummary, Totals};

/// What a finding does at admission under some modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// The request is denied.
    Deny,
    /// The mutating webhook fixes it (`fix` mode, a fix safe to make).
    Fix,
    /// Admitted, the developer warned.
    Warn,
    /// Admitted silently, recorded for ops.
    Audit,
    /// Let through by a live exception.
    Excepted,
}

impl Effect {
    /// What a finding in `mode` does; `excepted`: a live exception covers it.
    pub fn of(mode: Mode, excepted: bool) -> Effect {
        match mode {
            _ if excepted => Effect::Excepted,
            Mode::Enforce => Effect::Deny,
            Mode::Fix => Effect::Fix,
            Mode::Warn => Effect::Warn,
            Mode::Audit => Effect::Audit,
        }
    }

    /// The lower-case name (`deny`).
    pub fn as_str(self) -> &'static str {
        match self {
            Effect::Deny => "deny",
            Effect::Fix => "fix",
            Effect::Warn => "warn",
            Effect::Audit => "audit",
            Effect::Excepted => "excepted",
        }
    }
}

/// One finding, with what it does now and under the plan.
#[derive(Debug, Clone)]
pub struct Judged {
    /// The finding, as the planned configuration explains it.
    pub finding: Finding,
    /// What it does under the current modes.
    pub now: Effect,
    /// What it does under the planned modes.
    pub planned: Effect,
    /// Its fixes as changes of the object (`field: from → to`).
    pub fixes: Vec<FixChange>,
    /// `counsel check --fix` would close it (it would be gone from the
    /// fixed object).
    pub closed_by_fix: bool,
}

/// A policy that could not judge an object.
#[derive(Debug, Clone, PartialEq)]
pub struct Failed {
    /// The policy.
    pub policy: String,
    /// What went wrong, in one sentence.
    pub message: String,
    /// `failurePolicy: fail`: admission would deny the object.
    pub denies: bool,
}

/// One object with findings or failures.
#[derive(Debug, Clone)]
pub struct Judgement {
    /// The object.
    pub object: ObjectRef,
    /// Its namespace's owner (`counsel.dev/owner`), if it says.
    pub owner: Option<String>,
    /// How to reach its namespace's owner, as the finding shows it.
    pub contact: Option<String>,
    /// Its findings, in the order of the review.
    pub findings: Vec<Judged>,
    /// Policies that failed on it.
    pub failures: Vec<Failed>,
    /// Under the plan it would be denied, and `counsel check --fix` would
    /// make it pass: nothing denies the fixed object.
    pub closed_by_fix: bool,
}

impl Judgement {
    /// Whether admission would deny it under the plan.
    pub fn denied(&self) -> bool {
        self.findings.iter().any(|j| j.planned == Effect::Deny)
            || self.failures.iter().any(|f| f.denies)
    }

    /// Whether admission denies it under the current modes.
    pub fn denied_now(&self) -> bool {
        self.findings.iter().any(|j| j.now == Effect::Deny)
            || self.failures.iter().any(|f| f.denies)
    }

    /// Whether an owner is told of it: denied under the plan, or excepted.
    pub fn reported(&self) -> bool {
        self.denied() || self.findings.iter().any(|j| j.planned == Effect::Excepted)
    }

    /// The findings an owner is told of: those that deny under the plan
    /// and those an exception lets through.
    pub fn reported_findings(&self) -> impl Iterator<Item = &Judged> {
        self.findings
            .iter()
            .filter(|j| matches!(j.planned, Effect::Deny | Effect::Excepted))
    }
}

/// What the whole audit found, ordered for renderers: judgements by
/// owner (named owners in order, then none), namespace, kind and name.
#[derive(Debug, Clone, Default)]
pub struct Rollout {
    /// The planned mode of each policy, beside its current one, in
    /// configuration order.
    pub policies: Vec<PolicyModes>,
    /// Objects some policy matched, judged.
    pub objects: usize,
    /// Objects left out because their controller is judged
    /// ([`crate::audit::controller`]).
    pub owned: usize,
    /// Every object with a finding or a failure.
    pub judgements: Vec<Judgement>,
}

/// A policy's mode now and under the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyModes {
    /// The policy.
    pub policy: String,
    /// Its mode now.
    pub now: Mode,
    /// Its mode under the plan.
    pub planned: Mode,
}

/// Judges objects and collects what a [`Rollout`] says of them.
pub struct Auditor<'a> {
    current: &'a Config,
    reviewer: &'a Reviewer,
    remedy: Remedy,
    /// Kinds whose objects are judged: an object whose controller is of one
    /// of them is left to its controller.
    controllers: BTreeSet<String>,
    include_owned: bool,
    rollout: Rollout,
}

impl<'a> Auditor<'a> {
    /// An auditor for `reviewer`, loaded from `plan.configure(current)`.
    /// `controllers`: the kinds being judged (an object whose controller is
    /// of one of them is reported at its controller, unless
    /// `include_owned`); `scope`: the fixes `--fix` makes.
    pub fn new(
        current: &'a Config,
        plan: &Plan,
        reviewer: &'a Reviewer,
        controllers: BTreeSet<String>,
        include_owned: bool,
        scope: FixScope,
    ) -> Auditor<'a> {
        let policies = current
            .policies
            .iter()
            .map(|policy| PolicyModes {
                policy: policy.name.clone(),
                now: policy.mode,
                planned: plan.mode_of(&policy.name).unwrap_or(policy.mode),
            })
            .collect();
        Auditor {
            current,
            reviewer,
            remedy: Remedy::check(scope),
            controllers,
            include_owned,
            rollout: Rollout {
                policies,
                ..Rollout::default()
            },
        }
    }

    /// The reviewer of the planned configuration.
    pub fn reviewer(&self) -> &'a Reviewer {
        self.reviewer
    }

    /// Judges one object in `context` (its namespace, the exceptions, the
    /// time), as admission would judge its CREATE under the plan.
    pub fn judge(&mut self, object: Value, context: &Context<'_>) {
        if !self.include_owned
            && crate::audit::controller(&object)
                .is_some_and(|(kind, _)| self.controllers.contains(kind))
        {
            self.rollout.owned += 1;
            return;
        }
        let request = Request::for_manifest(object, Operation::Create, None);
        // Scope::All names no policy, so a review cannot fail.
        let Ok(report) = self.reviewer.review_in(&request, Scope::All, None, context) else {
            return;
        };
        // Counted when some policy matched it.
        self.rollout.objects += usize::from(!report.evaluations.is_empty());
        if report.findings.is_empty() && report.failures.is_empty() {
            return;
        }
        let Some(object) = request.object.as_ref() else {
            return;
        };
        let findings = report
            .findings
            .iter()
            .map(|finding| {
                let excepted = finding.excepted_by().is_some();
                let now = self
                    .current
                    .policies
                    .iter()
                    .find(|p| p.name == finding.policy)
                    .map_or(finding.mode, |policy| finding.mode_under(policy));
                Judged {
                    finding: finding.clone(),
                    now: Effect::of(now, excepted),
                    planned: Effect::of(finding.mode, excepted),
                    fixes: FixChange::of(finding, object),
                    closed_by_fix: false,
                }
            })
            .collect();
        let failures = report
            .failures
            .iter()
            .map(|failure| Failed {
                policy: failure.policy.clone(),
                message: failure.failure.to_string(),
                denies: failure.failure_policy == FailurePolicy::Fail,
            })
            .collect();
        let mut judgement = Judgement {
            object: report.object.clone(),
            owner: owner(context.namespace),
            contact: report.findings.iter().find_map(|f| f.owner.clone()),
            findings,
            failures,
            closed_by_fix: false,
        };
        if judgement.denied() {
            fixes::close(
                self.reviewer,
                self.remedy,
                &request,
                &report,
                context,
                &mut judgement,
            );
        }
        self.rollout.judgements.push(judgement);
    }

    /// The report, ordered.
    pub fn finish(mut self) -> Rollout {
        self.rollout.judgements.sort_by(|a, b| {
            let key = |j: &Judgement| {
                (
                    j.owner.is_none(),
                    j.owner.clone(),
                    j.object.namespace.clone(),
                    j.object.kind.clone(),
                    j.object.name.clone(),
                    j.object.api_version.clone(),
                )
            };
            key(a).cmp(&key(b))
        });
        self.rollout
    }
}

/// The team a namespace's `counsel.dev/owner` annotation names.
fn owner(namespace: Option<&Namespace>) -> Option<String> {
    namespace?
        .annotations
        .get(OWNER_ANNOTATION)
        .map(|owner| owner.trim().to_owned())
        .filter(|owner| !owner.is_empty())
}
