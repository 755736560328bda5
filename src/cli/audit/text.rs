//! Wording the pretty and Markdown reports share: the plan, the totals, a
//! rule's counts, a fix as a change (`field: from → to`).

use std::collections::BTreeMap;

use counsel::engine::FixSafety;

use counsel::rollout::{Effect, FixChange, Judged, Judgement, Rollout, RuleSummary};

/// What the bucket of objects without an owner is called.
pub const NO_OWNER: &str = "(no owner)";

/// The owner's name, or [`NO_OWNER`].
pub fn owner(owner: Option<&str>) -> &str {
    owner.unwrap_or(NO_OWNER)
}

/// `Planned modes: pod-security enforce (now), workload-hygiene enforce (now warn).`
pub fn plan(rollout: &Rollout) -> String {
    let policies: Vec<String> = rollout
        .policies
        .iter()
        .map(|p| {
            if p.now == p.planned {
                format!("{} {} (as now)", p.policy, p.planned.as_str())
            } else {
                format!(
                    "{} {} (now {})",
                    p.policy,
                    p.planned.as_str(),
                    p.now.as_str()
                )
            }
        })
        .collect();
    format!("Planned modes: {}.", policies.join(", "))
}

/// The totals, a sentence each.
pub fn totals(rollout: &Rollout) -> Vec<String> {
    let totals = rollout.totals();
    let mut lines = Vec::new();
    if totals.denied == 0 {
        lines.push(format!(
            "Nothing would be denied: {} judged.",
            count(rollout.objects, "object")
        ));
    } else {
        lines.push(format!(
            "{} of {} would be denied ({} already today); counsel check --fix would make {} of them pass.",
            totals.denied,
            count(rollout.objects, "object"),
            totals.denied_now,
            totals.closed_by_fix
        ));
    }
    if totals.excepted > 0 {
        lines.push(format!(
            "{} let through by exceptions.",
            count(totals.excepted, "finding")
        ));
    }
    if rollout.owned > 0 {
        lines.push(format!(
            "{} owned by a controller left to it (--include-owned judges them too).",
            count(rollout.owned, "object")
        ));
    }
    lines
}

/// `2 objects would be denied (1 today), counsel check --fix closes 1; 1 excepted`.
pub fn rule_counts(rule: &RuleSummary) -> String {
    let mut text = if rule.denied == 0 {
        "nothing would be denied".to_owned()
    } else {
        format!(
            "{} would be denied ({} today), counsel check --fix closes {}",
            count(rule.denied, "object"),
            rule.denied_now,
            rule.closed_by_fix
        )
    };
    if rule.excepted > 0 {
        text.push_str(&format!("; {} excepted", rule.excepted));
    }
    text
}

/// `shop (2), payments (1)`: most first, then by name.
pub fn tally<'k>(counts: impl IntoIterator<Item = (&'k str, usize)>) -> String {
    let mut counts: Vec<(&str, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    let parts: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{name} ({n})"))
        .collect();
    parts.join(", ")
}

/// A rule's namespaces, cluster-scoped objects as `(cluster)`.
pub fn namespaces(counts: &BTreeMap<String, usize>) -> String {
    tally(counts.iter().map(|(name, n)| {
        let name = if name.is_empty() { "(cluster)" } else { name };
        (name, *n)
    }))
}

/// A rule's owners.
pub fn owners(counts: &BTreeMap<Option<String>, usize>) -> String {
    tally(counts.iter().map(|(name, n)| (owner(name.as_deref()), *n)))
}

/// What happens to an object under the plan, and today.
pub fn object_state(judgement: &Judgement) -> String {
    let mut text = match (judgement.denied(), judgement.denied_now()) {
        (true, true) => "denied today already".to_owned(),
        (true, false) => "would be denied".to_owned(),
        _ => "excepted".to_owned(),
    };
    if judgement.closed_by_fix {
        text.push_str("; counsel check --fix makes it pass");
    }
    text
}

/// What a finding does today, when it denies under the plan: `denied
/// today`, `a warning today`.
pub fn today(judged: &Judged) -> &'static str {
    match judged.now {
        Effect::Deny => "denied today",
        Effect::Fix => "fixed by the webhook today",
        Effect::Warn => "a warning today",
        Effect::Audit => "recorded only today",
        Effect::Excepted => "excepted today",
    }
}

/// What a finding's fixes are called: `fix`, or `suggested fix` for a fix
/// only `counsel check --fix=all` makes.
pub fn fix_label(judged: &Judged) -> &'static str {
    match judged.finding.fix_safety {
        FixSafety::Safe => "fix",
        FixSafety::Suggestion => "suggested fix (--fix=all)",
    }
}

/// `spec.containers[0].securityContext.privileged: true → false`.
pub fn change(change: &FixChange) -> String {
    let value = |value: &Option<serde_json::Value>, none: &str| {
        value
            .as_ref()
            .map_or_else(|| none.to_owned(), serde_json::Value::to_string)
    };
    format!(
        "{}: {} → {}",
        change.field,
        value(&change.from, "(not set)"),
        value(&change.to, "(removed)")
    )
}

/// `1 object`, `2 objects`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
