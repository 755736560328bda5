//! What a policy says, converted from the WIT types into the contract's
//! (`counsel_contract`), checked before anyone believes it.
//!
//! A policy is untrusted code: its metadata and verdicts are validated here
//! (rule ids in the catalog, JSON that parses, pointers that are pointers,
//! sizes within limits) so everything downstream can rely on them.

use std::collections::{HashMap, HashSet};

use counsel_contract::{
    FixSafety, Metadata, Rule, Severity, Verdict, Violation, verdict_encoded_size,
};
use counsel_edit::{Edit, pointer};
use serde_json::Value;

use super::Failure;
use super::bindings::types as wit;

/// Checks and converts what `metadata()` returned.
pub(super) fn metadata(guest: wit::Metadata) -> Result<Metadata<String>, String> {
    if guest.name.trim().is_empty() {
        return Err("its metadata has an empty name".into());
    }
    let mut seen = HashSet::new();
    let mut rules = Vec::with_capacity(guest.rules.len());
    for rule in guest.rules {
        if rule.id.is_empty()
            || !rule
                .id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(format!(
                "its rule catalog has the id {:?}; rule ids are non-empty and use only letters, digits and '-'",
                rule.id
            ));
        }
        if !seen.insert(rule.id.clone()) {
            return Err(format!(
                "its rule catalog lists the rule {:?} twice",
                rule.id
            ));
        }
        rules.push(Rule {
            id: rule.id,
            title: rule.title,
            why: rule.why,
            docs: rule.docs,
            severity: severity(rule.severity),
            fix_safety: match rule.fix_safety {
                wit::FixSafety::Safe => FixSafety::Safe,
                wit::FixSafety::Suggestion => FixSafety::Suggestion,
            },
        });
    }
    Ok(Metadata {
        name: guest.name,
        version: guest.version,
        description: guest.description,
        kinds: guest.kinds,
        rules,
    })
}

fn severity(guest: wit::Severity) -> Severity {
    match guest {
        wit::Severity::Low => Severity::Low,
        wit::Severity::Medium => Severity::Medium,
        wit::Severity::High => Severity::High,
        wit::Severity::Critical => Severity::Critical,
    }
}

/// Checks and converts what `validate()` returned.
pub(super) fn verdict(
    guest: wit::Verdict,
    metadata: &Metadata<String>,
    size_limit: usize,
) -> Result<Verdict, Failure> {
    let size = size_of(&guest);
    if size > size_limit {
        return Err(Failure::VerdictTooLarge {
            size,
            limit: size_limit,
        });
    }
    let mut violations = guest
        .violations
        .into_iter()
        .enumerate()
        .map(|(index, violation)| self::violation(index, violation, metadata))
        .collect::<Result<Vec<_>, _>>()?;
    add_omitted(&mut violations, guest.omitted, metadata)?;
    Ok(Verdict {
        violations,
        warnings: guest.warnings,
    })
}

/// Makes the violations a policy left out of its verdict count like the
/// others: in the rule's mode, an object that breaks an enforced rule 800
/// times is denied although only the first violations are listed. The first
/// listed violation of the rule says how many more there are (the first is
/// the line most likely to be shown when a long answer is cut); when none of
/// the rule's violations is listed, one violation about the object as a whole
/// (pointer `""`, no machine fix) stands for them. Linear in the verdict,
/// however a policy repeats its rules.
fn add_omitted(
    violations: &mut Vec<Violation>,
    omitted: Vec<wit::Omitted>,
    metadata: &Metadata<String>,
) -> Result<(), Failure> {
    // Per rule, in the order rules first appear: the count left out, the
    // index of the first listed violation, and how many are listed.
    let mut per_rule: Vec<(String, u64, Option<usize>, usize)> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for entry in omitted {
        if metadata.rule(&entry.rule).is_none() {
            return Err(Failure::UnknownRule(entry.rule));
        }
        if entry.count == 0 {
            continue;
        }
        match index.get(&entry.rule) {
            Some(&i) => per_rule[i].1 += u64::from(entry.count),
            None => {
                index.insert(entry.rule.clone(), per_rule.len());
                per_rule.push((entry.rule, u64::from(entry.count), None, 0));
            }
        }
    }
    if per_rule.is_empty() {
        return Ok(());
    }
    for (at, violation) in violations.iter().enumerate() {
        if let Some(&i) = index.get(&violation.rule) {
            per_rule[i].2.get_or_insert(at);
            per_rule[i].3 += 1;
        }
    }
    for (rule, count, first, listed) in per_rule {
        let noun = if count == 1 {
            "violation"
        } else {
            "violations"
        };
        match first {
            Some(at) => violations[at].message.push_str(&format!(
                " ({listed} listed here, and {count} more {noun} of this rule)"
            )),
            None => violations.push(
                Violation::new(&rule)
                    .message(format!(
                        "{count} {noun} of this rule, not listed to keep the answer short"
                    ))
                    .hint(
                        "Fix the violations listed and check the object again (counsel check) \
                         to see the rest.",
                    ),
            ),
        }
    }
    Ok(())
}

fn violation(
    index: usize,
    guest: wit::Violation,
    metadata: &Metadata<String>,
) -> Result<Violation, Failure> {
    if metadata.rule(&guest.rule).is_none() {
        return Err(Failure::UnknownRule(guest.rule));
    }
    let malformed = |what: String| {
        Failure::Malformed(format!("violation {index} (rule {:?}): {what}", guest.rule))
    };
    check_pointer(&guest.path)
        .map_err(|e| malformed(format!("path {:?} is not a JSON Pointer: {e}", guest.path)))?;
    let found = guest
        .found
        .as_deref()
        .map(|text| json(text).map_err(|e| malformed(format!("found is not JSON: {e}"))))
        .transpose()?;
    let fixes = guest
        .fixes
        .into_iter()
        .map(|edit| match edit {
            wit::Edit::Set(set) => {
                check_pointer(&set.path).map_err(|e| {
                    malformed(format!(
                        "fix path {:?} is not a JSON Pointer: {e}",
                        set.path
                    ))
                })?;
                let value = json(&set.value).map_err(|e| {
                    malformed(format!("fix value for {:?} is not JSON: {e}", set.path))
                })?;
                Ok(Edit::Set {
                    path: set.path,
                    value,
                })
            }
            wit::Edit::Remove(path) => {
                check_pointer(&path).map_err(|e| {
                    malformed(format!("fix path {path:?} is not a JSON Pointer: {e}"))
                })?;
                Ok(Edit::Remove { path })
            }
        })
        .collect::<Result<_, Failure>>()?;
    Ok(Violation {
        rule: guest.rule,
        message: guest.message,
        path: guest.path,
        found,
        fixes,
        hint: guest.hint,
        docs: guest.docs,
    })
}

fn check_pointer(path: &str) -> Result<(), String> {
    pointer::tokens(path).map(drop).map_err(|e| e.to_string())
}

fn json(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| e.to_string())
}

/// The bytes of text a verdict carries; what the size limit counts.
fn size_of(verdict: &wit::Verdict) -> usize {
    verdict_encoded_size(
        verdict.warnings.iter().map(String::as_str),
        &verdict.violations,
        verdict.omitted.iter().map(|omitted| omitted.rule.as_str()),
    )
}

counsel_contract::impl_encoded_violation!(wit);

#[cfg(test)]
mod tests;
