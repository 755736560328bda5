//! What the webhook and the audit tell as Events (`cluster::events`): the
//! findings that did not deny an admitted object, and what the audit finds
//! in objects already there. Each note is the finding's warning line, the
//! one kubectl shows.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use tokio::sync::watch;

use super::response::{finding_line, warning_subject};
use crate::audit::{AuditSnapshot, Audited, KeptFinding, ObjectKey};
use crate::cluster::events::{EXCEPTED, EventSender, PolicyEvent, VIOLATION};
use crate::config::Mode;
use crate::explain::{Finding, ObjectRef, Report};

/// `Admit`: a review let the object in.
pub const ADMIT: &str = "Admit";
/// `Audit`: the background audit judged the object.
pub const AUDIT: &str = "Audit";

/// The events of an admitted object's report: its `warn`- and
/// `audit`-mode findings, those an exception let through, and `fix`-mode
/// ones left unfixed (what denies denied; what `/mutate` fixed is no
/// longer there when `/validate` sees the object).
pub fn admission_events(report: &Report, uid: Option<&str>) -> Vec<PolicyEvent> {
    report
        .findings
        .iter()
        .filter(|finding| finding.mode != Mode::Enforce)
        .map(|finding| admission_event(&report.object, uid, finding))
        .collect()
}

/// The events of what the audit found in `current` and had not found in
/// `previous` (the same object, rule, field and message): every finding of
/// an object not judged before, new findings of an object that changed.
pub fn audit_events(previous: &AuditSnapshot, current: &AuditSnapshot) -> Vec<PolicyEvent> {
    let mut events = Vec::new();
    for (key, audited) in &current.objects {
        let before = previous.objects.get(key);
        // Not judged again since: nothing new, and nothing to compare.
        if before.is_some_and(|before| Arc::ptr_eq(before, audited)) {
            continue;
        }
        let known: BTreeSet<(&str, &str, &str, &str)> = before
            .map(|before| before.findings.iter().map(identity).collect())
            .unwrap_or_default();
        events.extend(
            (audited.findings.iter())
                .filter(|finding| !known.contains(&identity(finding)))
                .map(|finding| audit_event(key, audited, finding)),
        );
    }
    events
}

fn identity(finding: &KeptFinding) -> (&str, &str, &str, &str) {
    (
        &finding.facts.policy,
        &finding.facts.rule,
        &finding.field,
        &finding.message,
    )
}

/// The Event of a finding the audit kept: its warning line, about the
/// object with its uid.
fn audit_event(key: &ObjectKey, audited: &Audited, finding: &KeptFinding) -> PolicyEvent {
    let regarding = ObjectReference {
        api_version: Some(key.api_version.clone()),
        kind: Some(key.kind.clone()),
        name: Some(key.name.clone()),
        namespace: key.namespace.clone(),
        uid: Some(audited.uid.clone()).filter(|uid| !uid.is_empty()),
        ..ObjectReference::default()
    };
    let excepted = finding.exception.is_some();
    event(regarding, excepted, finding.line.to_string(), AUDIT)
}

/// The Event of a finding of an admission review.
fn admission_event(object: &ObjectRef, uid: Option<&str>, finding: &Finding) -> PolicyEvent {
    let regarding = ObjectReference {
        api_version: Some(object.api_version.clone()),
        kind: Some(object.kind.clone()),
        name: Some(object.name.clone()),
        namespace: object.namespace.clone(),
        uid: uid.map(str::to_owned),
        ..ObjectReference::default()
    };
    let excepted = finding.excepted_by().is_some();
    let note = finding_line(finding, &warning_subject(object));
    event(regarding, excepted, note, ADMIT)
}

fn event(
    regarding: ObjectReference,
    excepted: bool,
    note: String,
    action: &'static str,
) -> PolicyEvent {
    PolicyEvent {
        regarding,
        reason: if excepted { EXCEPTED } else { VIOLATION },
        action,
        note,
        warning: !excepted,
    }
}

/// Tells the events of each new audit snapshot ([`audit_events`]) while
/// `leader` says this replica leads (one replica tells them; a new leader
/// tells what it finds, deduplicated by the Events' series). Returns when
/// either channel's sender is gone.
pub async fn run_audit_events(
    mut snapshots: watch::Receiver<Arc<AuditSnapshot>>,
    mut leader: watch::Receiver<bool>,
    events: EventSender,
) {
    loop {
        if leader.wait_for(|leads| *leads).await.is_err() {
            return;
        }
        let mut previous = Arc::new(AuditSnapshot::default());
        while *leader.borrow_and_update() {
            let current = snapshots.borrow_and_update().clone();
            for event in audit_events(&previous, &current) {
                events.send(event);
            }
            previous = current;
            tokio::select! {
                changed = snapshots.changed() => if changed.is_err() { return },
                changed = leader.changed() => if changed.is_err() { return },
            }
        }
    }
}
