//! Rules defined by ops in a policy's settings, and where in counsel.yaml a
//! settings error is.
//!
//! A policy's catalog is static (its `metadata`), except for a policy whose
//! catalog lists no rules at all (`builtin:cel`): its rules are its
//! settings, so the catalog entries (id, title, why, docs, severity, fix
//! safety) are read from them here, at load, and added to the policy's
//! catalog. Everything downstream (the verdict check, ops' overrides,
//! explanations) then treats them like any rule. The policy reads the same
//! settings for the expressions; both sides derive a ValidatingAdmissionPolicy
//! validation's id the same way (`policies/cel-rules/src/settings.rs`).
//!
//! Two sources: `rules[]` (Counsel's rule format) and
//! `validatingAdmissionPolicies[]` (`policy`: a ValidatingAdmissionPolicy as
//! Kubernetes defines it; `validations[]`: Counsel's additions, by index).

use serde::Deserialize;
use serde_json::Value;

use crate::engine::{FixSafety, Rule, Severity};

/// A catalog entry that cannot be read, with the JSON Pointer (into the
/// settings) of the field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsRuleError {
    /// Where, inside the settings (`/rules/2/severity`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Entries {
    rules: Vec<Entry>,
    validating_admission_policies: Vec<VapEntry>,
}

/// What the catalog needs of a rule or a validation's additions.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Entry {
    id: Option<String>,
    title: Option<String>,
    why: Option<String>,
    docs: Option<String>,
    severity: Option<Severity>,
    fix_safety: Option<FixSafety>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VapEntry {
    policy: Vap,
    validations: Vec<Entry>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Vap {
    metadata: VapMetadata,
    spec: VapSpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VapMetadata {
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VapSpec {
    validations: Vec<Validation>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Validation {
    expression: String,
    message: Option<String>,
}

/// The rules `settings` define (empty when they define none).
pub fn catalog(settings: &Value) -> Result<Vec<Rule<String>>, SettingsRuleError> {
    let entries: Entries = serde_path_to_error::deserialize(settings).map_err(|e| {
        let pointer = e
            .path()
            .iter()
            .fold(String::new(), |at, segment| match segment {
                serde_path_to_error::Segment::Seq { index } => format!("{at}/{index}"),
                serde_path_to_error::Segment::Map { key } => counsel_edit::pointer::push(&at, key),
                _ => at,
            });
        SettingsRuleError {
            pointer,
            message: format!("setting `{}`: {}", e.path(), e.inner()),
        }
    })?;
    let mut rules = Vec::new();
    for (index, entry) in entries.rules.iter().enumerate() {
        let at = format!("/rules/{index}");
        let id = entry.id.clone().unwrap_or_default();
        let title = entry.title.clone().ok_or_else(|| SettingsRuleError {
            pointer: at.clone(),
            message: format!(
                "setting `rules[{index}]`: rule {id:?} has no `title`; say in one line what it requires"
            ),
        })?;
        let why = "The people who run Counsel require it.";
        rules.push(rule(entry, &at, id, title, why)?);
    }
    for (index, vap) in entries.validating_admission_policies.iter().enumerate() {
        let name = &vap.policy.metadata.name;
        let count = vap.policy.spec.validations.len();
        for (n, validation) in vap.policy.spec.validations.iter().enumerate() {
            let extra = vap.validations.get(n);
            let at = match extra {
                Some(_) => format!("/validatingAdmissionPolicies/{index}/validations/{n}"),
                None => format!("/validatingAdmissionPolicies/{index}/policy/spec/validations/{n}"),
            };
            let id = match extra.and_then(|e| e.id.clone()) {
                Some(id) => id,
                None if count == 1 => name.clone(),
                None => format!("{name}-{}", n + 1),
            };
            let title = extra
                .and_then(|e| e.title.clone())
                .or_else(|| validation.message.clone())
                .unwrap_or_else(|| format!("Must satisfy: {}", validation.expression.trim()));
            let why = format!("Required by the ValidatingAdmissionPolicy {name:?}.");
            let empty = Entry::default();
            rules.push(rule(extra.unwrap_or(&empty), &at, id, title, &why)?);
        }
    }
    Ok(rules)
}

fn rule(
    entry: &Entry,
    at: &str,
    id: String,
    title: String,
    why: &str,
) -> Result<Rule<String>, SettingsRuleError> {
    let valid = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !valid {
        return Err(SettingsRuleError {
            pointer: at.to_owned(),
            message: format!(
                "setting `{}`: {id:?} is not a rule id; use lowercase letters, digits, '-' and '.'",
                at.trim_start_matches('/').replace('/', ".")
            ),
        });
    }
    Ok(Rule {
        id,
        title,
        why: entry.why.clone().unwrap_or_else(|| why.to_owned()),
        docs: entry.docs.clone(),
        severity: entry.severity.unwrap_or(Severity::Medium),
        fix_safety: entry.fix_safety.unwrap_or(FixSafety::Suggestion),
    })
}

/// The JSON Pointer (into the settings) of the setting a policy's settings
/// error names, in the SDK's form: "setting `rules[2].validate`: ...".
pub fn error_pointer(message: &str) -> Option<String> {
    let path = message.strip_prefix("setting `")?.split_once('`')?.0;
    let mut pointer = String::new();
    for part in path.split('.') {
        let (name, indexes) = part.split_once('[').unwrap_or((part, ""));
        if !name.is_empty() {
            pointer = counsel_edit::pointer::push(&pointer, name);
        }
        for index in indexes.split('[').filter(|i| !i.is_empty()) {
            pointer.push('/');
            pointer.push_str(index.trim_end_matches(']'));
        }
    }
    Some(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_errors_name_a_pointer() {
        assert_eq!(
            error_pointer("setting `rules[2].validate`: rule \"x\": column 3: oops").as_deref(),
            Some("/rules/2/validate")
        );
        assert_eq!(
            error_pointer(
                "setting `validatingAdmissionPolicies[0].policy.spec.validations[1].expression`: x"
            )
            .as_deref(),
            Some("/validatingAdmissionPolicies/0/policy/spec/validations/1/expression")
        );
        assert_eq!(error_pointer("settings: missing field `x`"), None);
    }
}
