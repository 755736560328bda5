//! What a [`Rollout`] says in sum: per policy and rule, per owner, in
//! total.

use std::collections::BTreeMap;

use super::{Effect, Judgement, Rollout};

/// What one rule of one policy would deny, over the whole audit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RuleSummary {
    /// The policy.
    pub policy: String,
    /// The rule.
    pub rule: String,
    /// What the rule requires.
    pub title: String,
    /// Objects denied under the plan.
    pub denied: usize,
    /// Of those, objects denied already under the current modes.
    pub denied_now: usize,
    /// Of those, objects in which `counsel check --fix` closes every
    /// finding of the rule.
    pub closed_by_fix: usize,
    /// Objects whose findings of the rule a live exception lets through.
    pub excepted: usize,
    /// Denied objects per namespace (`""` for cluster-scoped ones).
    pub namespaces: BTreeMap<String, usize>,
    /// Denied objects per owner (`None`: no owner).
    pub owners: BTreeMap<Option<String>, usize>,
}

/// The findings of one owner's namespaces, for the owner to act on.
#[derive(Debug, Clone)]
pub struct OwnerPart<'r> {
    /// The owner (`None`: namespaces without an owner, and cluster-scoped
    /// objects).
    pub owner: Option<&'r str>,
    /// The objects denied under the plan, or excepted, in order.
    pub judgements: Vec<&'r Judgement>,
}

/// Counts over the whole audit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Objects denied under the plan.
    pub denied: usize,
    /// Of those, denied under the current modes already.
    pub denied_now: usize,
    /// Of those, made to pass by `counsel check --fix`.
    pub closed_by_fix: usize,
    /// Findings that would deny under the plan.
    pub denying_findings: usize,
    /// Findings a live exception lets through.
    pub excepted: usize,
}

impl Rollout {
    /// Per policy and rule, in configuration order, then rule id: every
    /// rule that would deny an object or is excepted somewhere.
    pub fn rules(&self) -> Vec<RuleSummary> {
        let mut rules: BTreeMap<(usize, &str, &str), RuleSummary> = BTreeMap::new();
        let order = |policy: &str| {
            self.policies
                .iter()
                .position(|p| p.policy == policy)
                .unwrap_or(usize::MAX)
        };
        for judgement in &self.judgements {
            let mut seen: BTreeMap<(&str, &str), (bool, bool, bool, bool)> = BTreeMap::new();
            for judged in &judgement.findings {
                let f = &judged.finding;
                let entry = seen
                    .entry((&f.policy, &f.rule))
                    .or_insert((false, false, true, false));
                if judged.planned == Effect::Deny {
                    entry.0 = true;
                    entry.1 |= judged.now == Effect::Deny;
                    entry.2 &= judged.closed_by_fix;
                }
                entry.3 |= judged.planned == Effect::Excepted;
            }
            for ((policy, rule), (denied, now, closed, excepted)) in seen {
                if !denied && !excepted {
                    continue;
                }
                let title = judgement
                    .findings
                    .iter()
                    .find(|j| j.finding.policy == policy && j.finding.rule == rule)
                    .map(|j| j.finding.title.clone())
                    .unwrap_or_default();
                let summary = rules
                    .entry((order(policy), policy, rule))
                    .or_insert_with(|| RuleSummary {
                        policy: policy.to_owned(),
                        rule: rule.to_owned(),
                        title,
                        ..RuleSummary::default()
                    });
                summary.excepted += usize::from(excepted);
                if denied {
                    summary.denied += 1;
                    summary.denied_now += usize::from(now);
                    summary.closed_by_fix += usize::from(closed);
                    let namespace = judgement.object.namespace.clone().unwrap_or_default();
                    *summary.namespaces.entry(namespace).or_default() += 1;
                    *summary.owners.entry(judgement.owner.clone()).or_default() += 1;
                }
            }
        }
        rules.into_values().collect()
    }

    /// Per owner: the objects to tell them about (denied under the plan, or
    /// let through by an exception), named owners first.
    pub fn owners(&self) -> Vec<OwnerPart<'_>> {
        let mut parts: Vec<OwnerPart<'_>> = Vec::new();
        for judgement in self.judgements.iter().filter(|j| j.reported()) {
            let owner = judgement.owner.as_deref();
            match parts.last_mut() {
                Some(part) if part.owner == owner => part.judgements.push(judgement),
                _ => parts.push(OwnerPart {
                    owner,
                    judgements: vec![judgement],
                }),
            }
        }
        parts
    }

    /// Counts over every object.
    pub fn totals(&self) -> Totals {
        let mut totals = Totals::default();
        for judgement in &self.judgements {
            if judgement.denied() {
                totals.denied += 1;
                totals.denied_now += usize::from(judgement.denied_now());
                totals.closed_by_fix += usize::from(judgement.closed_by_fix);
            }
            for judged in &judgement.findings {
                totals.denying_findings += usize::from(judged.planned == Effect::Deny);
                totals.excepted += usize::from(judged.planned == Effect::Excepted);
            }
        }
        totals
    }
}
