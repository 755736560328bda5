//! What the webhook and the audit tell as Events (`cluster::events`): the
//! findings that did not deny an admitted object, and what the audit finds
//! in objects already there. Each note is the finding's warning line, the
//! one kubectl shows.

use std::collections::BTreeSet;
use std::sync::Arc;

use k8s_openapi::api::core::v1::ObjectReference;
use tokio::sync::watch;

use super::response::{finding_line, warning_subject};
use crate::audit::{AuditSnapshot, Audited};
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
        .map(|finding| event(&report.object, uid, finding, ADMIT))
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
            .map(|before| before.report.findings.iter().map(identity).collect())
            .unwrap_or_default();
        events.extend(
            audited
                .report
                .findings
                .iter()
                .filter(|finding| !known.contains(&identity(finding)))
                .map(|finding| audit_event(audited, finding)),
        );
    }
    events
}

fn identity(finding: &Finding) -> (&str, &str, &str, &str) {
    (
        &finding.policy,
        &finding.rule,
        &finding.pointer,
        &finding.message,
    )
}

fn audit_event(audited: &Audited, finding: &Finding) -> PolicyEvent {
    let uid = Some(audited.uid.as_str()).filter(|uid| !uid.is_empty());
    event(&audited.report.object, uid, finding, AUDIT)
}

fn event(
    object: &ObjectRef,
    uid: Option<&str>,
    finding: &Finding,
    action: &'static str,
) -> PolicyEvent {
    let excepted = finding.excepted_by().is_some();
    PolicyEvent {
        regarding: ObjectReference {
            api_version: Some(object.api_version.clone()),
            kind: Some(object.kind.clone()),
            name: Some(object.name.clone()),
            namespace: object.namespace.clone(),
            uid: uid.map(str::to_owned),
            ..ObjectReference::default()
        },
        reason: if excepted { EXCEPTED } else { VIOLATION },
        action,
        note: finding_line(finding, &warning_subject(object)),
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
