//! The rollout report as one JSON document (documented in
//! docs/operations.md). Members are only added, never renamed: tools read it.

use counsel::explain::ObjectRef;
use counsel::rollout::{Judged, Judgement, Rollout};
use serde_json::{Value, json};

/// The whole report, pretty-printed, with a final newline.
pub fn render(rollout: &Rollout, notes: &[String]) -> String {
    let totals = rollout.totals();
    let rules: Vec<Value> = rollout
        .rules()
        .iter()
        .map(|rule| {
            json!({
                "policy": rule.policy,
                "rule": rule.rule,
                "title": rule.title,
                "denied": rule.denied,
                "deniedNow": rule.denied_now,
                "closedByFix": rule.closed_by_fix,
                "excepted": rule.excepted,
                "namespaces": rule.namespaces,
                "owners": rule.owners.iter().map(|(owner, objects)| {
                    json!({"owner": owner, "objects": objects})
                }).collect::<Vec<_>>(),
            })
        })
        .collect();
    let owners: Vec<Value> = rollout
        .owners()
        .iter()
        .map(|part| {
            json!({
                "owner": part.owner,
                "objects": part.judgements.iter().map(|j| judgement(j)).collect::<Vec<_>>(),
            })
        })
        .collect();
    let document = json!({
        "notes": notes,
        "policies": rollout.policies.iter().map(|p| json!({
            "policy": p.policy,
            "mode": p.now.as_str(),
            "plannedMode": p.planned.as_str(),
        })).collect::<Vec<_>>(),
        "objects": rollout.objects,
        "ownedLeftToController": rollout.owned,
        "totals": {
            "denied": totals.denied,
            "deniedNow": totals.denied_now,
            "closedByFix": totals.closed_by_fix,
            "denyingFindings": totals.denying_findings,
            "excepted": totals.excepted,
        },
        "rules": rules,
        "owners": owners,
    });
    let mut text = serde_json::to_string_pretty(&document).unwrap_or_default();
    text.push('\n');
    text
}

fn object(object: &ObjectRef) -> Value {
    json!({
        "apiVersion": object.api_version,
        "kind": object.kind,
        "namespace": object.namespace,
        "name": object.name,
    })
}

fn judgement(judgement: &Judgement) -> Value {
    json!({
        "object": object(&judgement.object),
        "contact": judgement.contact,
        "denied": judgement.denied(),
        "deniedNow": judgement.denied_now(),
        "closedByFix": judgement.closed_by_fix,
        "findings": judgement.reported_findings().map(finding).collect::<Vec<_>>(),
        "failures": judgement.failures.iter().filter(|f| f.denies).map(|f| json!({
            "policy": f.policy,
            "message": f.message,
        })).collect::<Vec<_>>(),
    })
}

fn finding(judged: &Judged) -> Value {
    let f = &judged.finding;
    json!({
        "policy": f.policy,
        "rule": f.rule,
        "severity": f.severity.as_str(),
        "now": judged.now.as_str(),
        "planned": judged.planned.as_str(),
        "message": f.message,
        "field": f.field,
        "pointer": f.pointer,
        "found": f.found,
        "fixSafety": f.fix_safety.as_str(),
        "fixes": judged.fixes.iter().map(|c| json!({
            "field": c.field,
            "from": c.from,
            "to": c.to,
            "removes": c.to.is_none(),
        })).collect::<Vec<_>>(),
        "closedByFix": judged.closed_by_fix,
        "hint": f.hint,
        "exception": f.excepted_by().map(|e| json!({
            "exception": e.exception,
            "owner": e.owner,
            "expires": e.expires,
            "reason": e.reason,
        })),
    })
}
