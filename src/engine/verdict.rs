//! What a policy says, in host types, checked before anyone believes it.
//!
//! A policy is untrusted code: its metadata and verdicts are validated here
//! (rule ids in the catalog, JSON that parses, pointers that are pointers,
//! sizes within limits) so everything downstream can rely on them.

use std::collections::HashSet;

use counsel_edit::{Edit, pointer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Failure;
use super::bindings::types as wit;

/// How much a broken rule matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing.
    Low,
    /// Should be fixed.
    Medium,
    /// Must be fixed.
    High,
    /// Must be fixed now: a direct path to compromise.
    Critical,
}

impl Severity {
    /// The lower-case name (`high`).
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
}

/// One rule of a policy's catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier.
    pub id: String,
    /// One line saying what the rule requires.
    pub title: String,
    /// Why ops care, in plain words.
    pub why: String,
    /// Where to read more.
    pub docs: Option<String>,
    /// Severity unless configuration says otherwise.
    pub severity: Severity,
}

/// What a policy says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The policy's own name.
    pub name: String,
    /// The policy's version.
    pub version: String,
    /// What the policy is for.
    pub description: String,
    /// Kinds it applies to by default; empty means every kind.
    pub kinds: Vec<String>,
    /// Every rule it can report.
    pub rules: Vec<Rule>,
}

impl Metadata {
    /// The catalog entry of a rule.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|rule| rule.id == id)
    }
}

/// One broken rule at one place in the object.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The rule's id (known to be in the catalog).
    pub rule: String,
    /// One line about this object.
    pub message: String,
    /// JSON Pointer to the offending field.
    pub path: String,
    /// The value found there; `None` when the field is missing.
    pub found: Option<Value>,
    /// Edits that fix it.
    pub fixes: Vec<Edit>,
    /// What a person should do.
    pub hint: Option<String>,
}

/// A policy's judgement of one object.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Verdict {
    /// Every broken rule.
    pub violations: Vec<Violation>,
    /// Advice not tied to a rule.
    pub warnings: Vec<String>,
}

/// Checks and converts what `metadata()` returned.
pub(super) fn metadata(guest: wit::Metadata) -> Result<Metadata, String> {
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
    metadata: &Metadata,
    size_limit: usize,
) -> Result<Verdict, Failure> {
    let size = size_of(&guest);
    if size > size_limit {
        return Err(Failure::VerdictTooLarge {
            size,
            limit: size_limit,
        });
    }
    let violations = guest
        .violations
        .into_iter()
        .enumerate()
        .map(|(index, violation)| self::violation(index, violation, metadata))
        .collect::<Result<_, _>>()?;
    Ok(Verdict {
        violations,
        warnings: guest.warnings,
    })
}

fn violation(
    index: usize,
    guest: wit::Violation,
    metadata: &Metadata,
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
    let warnings: usize = verdict.warnings.iter().map(String::len).sum();
    let violations: usize = verdict
        .violations
        .iter()
        .map(|v| {
            let fixes: usize = v
                .fixes
                .iter()
                .map(|edit| match edit {
                    wit::Edit::Set(set) => set.path.len() + set.value.len(),
                    wit::Edit::Remove(path) => path.len(),
                })
                .sum();
            v.rule.len()
                + v.message.len()
                + v.path.len()
                + v.found.as_ref().map_or(0, String::len)
                + v.hint.as_ref().map_or(0, String::len)
                + fixes
        })
        .sum();
    warnings + violations
}
