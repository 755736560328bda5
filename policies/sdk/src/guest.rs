//! The glue between a [`Policy`] and the `policy` world of `wit/counsel.wit`.
//!
//! Used by [`export_policy!`](crate::export_policy); not a public API. The
//! bindings are generated on every target so the conversions are compiled and
//! tested natively; only the exports themselves are emitted on wasm32.

use crate::catalog::{FixSafety, Metadata as PolicyMetadata, Rule, Severity};
use crate::request::Request;
use crate::verdict::{
    MAX_VIOLATION_BYTES, MAX_VIOLATIONS, MAX_VIOLATIONS_PER_RULE, Verdict as PolicyVerdict,
    Violation as PolicyViolation, violation,
};
use crate::{INVALID_FIELD, Policy, settings};
use counsel_contract::EncodedViolation as _;
use counsel_edit::Edit;
use counsel_edit::Reads;

wit_bindgen::generate!({
    // Relative to this crate's Cargo.toml: the repository's one contract.
    path: "../../wit",
    world: "policy",
    pub_export_macro: true,
    export_macro_name: "__export_policy_world",
    // The export macro expands in the policy crate, which knows only us.
    default_bindings_module: "counsel_policy::guest",
    runtime_path: "counsel_policy::guest::wit_bindgen::rt",
});

#[doc(hidden)]
pub use wit_bindgen;

use self::counsel::policy::types as wit;

/// Compile-time check that the type given to `export_policy!` is a policy.
pub fn assert_policy<P: Policy>() {}

/// The `metadata` export: the policy's catalog plus the built-in rules.
pub fn metadata<P: Policy>() -> Metadata {
    let PolicyMetadata {
        name,
        version,
        description,
        kinds,
        rules,
    } = P::metadata().with_builtin_rules();
    Metadata {
        name,
        version,
        description,
        kinds,
        rules: rules.iter().map(to_wit_rule).collect(),
    }
}

/// The `validate-settings` export.
pub fn validate_settings<P: Policy>(settings: &str) -> Result<(), String> {
    let parsed = settings::parse::<P::Settings>(settings).map_err(|err| err.to_string())?;
    P::validate_settings(&parsed)
}

/// The `validate` export.
pub fn validate<P: Policy>(request: &str, settings: &str) -> Verdict {
    to_wit_verdict(run::<P>(request, settings))
}

/// Parses both inputs and runs the policy. Counsel only sends requests and
/// settings it has checked, so failing to read them is a bug somewhere; it is
/// reported as a violation (refusing the object) rather than a trap, so the
/// developer sees why.
pub fn run<P: Policy>(request: &str, settings: &str) -> PolicyVerdict {
    run_reading::<P>(request, settings, &P::reads())
}

/// Like [`run`], reading of the object what `reads` names.
pub fn run_reading<P: Policy>(request: &str, settings: &str, reads: &Reads) -> PolicyVerdict {
    let settings = match settings::parse::<P::Settings>(settings) {
        Ok(settings) => settings,
        Err(err) => return unreadable_input(err.to_string()),
    };
    match Request::from_json_reading(request, reads) {
        Ok(request) => P::validate(&request, &settings),
        Err(err) => unreadable_input(err.to_string()),
    }
}

fn unreadable_input(problem: String) -> PolicyVerdict {
    PolicyVerdict {
        violations: vec![
            violation(INVALID_FIELD.id)
                .message(format!("the policy could not read its input: {problem}"))
                .hint("This is a fault in Counsel or in the policy, not in your manifest; tell the people who run Counsel."),
        ],
        warnings: Vec::new(),
    }
}

fn to_wit_rule(rule: &Rule) -> wit::Rule {
    wit::Rule {
        id: rule.id.to_owned(),
        title: rule.title.to_owned(),
        why: rule.why.to_owned(),
        docs: rule.docs.map(str::to_owned),
        severity: match rule.severity {
            Severity::Low => wit::Severity::Low,
            Severity::Medium => wit::Severity::Medium,
            Severity::High => wit::Severity::High,
            Severity::Critical => wit::Severity::Critical,
        },
        fix_safety: match rule.fix_safety {
            FixSafety::Safe => wit::FixSafety::Safe,
            FixSafety::Suggestion => wit::FixSafety::Suggestion,
        },
    }
}

/// The verdict as it crosses the boundary: the first violations, within
/// [`MAX_VIOLATIONS`], [`MAX_VIOLATIONS_PER_RULE`] and
/// [`MAX_VIOLATION_BYTES`], in the policy's order; the others counted per
/// rule in `omitted`, in the order their rules first appear.
pub fn to_wit_verdict(verdict: PolicyVerdict) -> Verdict {
    let mut violations = Vec::new();
    let mut omitted: Vec<wit::Omitted> = Vec::new();
    // Violations kept, per rule, in the order rules first appear.
    let mut kept_per_rule: Vec<(String, usize)> = Vec::new();
    let mut bytes = 0;
    for v in verdict.violations {
        let index = match kept_per_rule.iter().position(|(rule, _)| *rule == v.rule) {
            Some(index) => index,
            None => {
                kept_per_rule.push((v.rule.clone(), 0));
                kept_per_rule.len() - 1
            }
        };
        if violations.len() < MAX_VIOLATIONS && kept_per_rule[index].1 < MAX_VIOLATIONS_PER_RULE {
            let converted = to_wit_violation(v);
            let size = converted.encoded_size();
            if bytes + size <= MAX_VIOLATION_BYTES {
                bytes += size;
                kept_per_rule[index].1 += 1;
                violations.push(converted);
                continue;
            }
            count_omitted(&mut omitted, converted.rule);
        } else {
            count_omitted(&mut omitted, v.rule);
        }
    }
    Verdict {
        violations,
        omitted,
        warnings: verdict.warnings,
    }
}

fn count_omitted(omitted: &mut Vec<wit::Omitted>, rule: String) {
    match omitted.iter_mut().find(|o| o.rule == rule) {
        Some(entry) => entry.count = entry.count.saturating_add(1),
        None => omitted.push(wit::Omitted { rule, count: 1 }),
    }
}

counsel_contract::impl_encoded_violation!(wit);

fn to_wit_violation(v: PolicyViolation) -> wit::Violation {
    wit::Violation {
        rule: v.rule,
        message: v.message,
        path: v.path,
        found: v.found.map(|value| value.to_string()),
        fixes: v.fixes.into_iter().map(to_wit_edit).collect(),
        hint: v.hint,
        docs: v.docs,
    }
}

fn to_wit_edit(edit: Edit) -> wit::Edit {
    match edit {
        Edit::Set { path, value } => wit::Edit::Set(wit::SetValue {
            path,
            value: value.to_string(),
        }),
        Edit::Remove { path } => wit::Edit::Remove(path),
    }
}

/// The host's `log` import, on wasm32 only (natively there is no host).
#[cfg(target_arch = "wasm32")]
pub(crate) fn log(level: crate::log::Level, message: &str) {
    use crate::log::Level;
    let level = match level {
        Level::Trace => wit::LogLevel::Trace,
        Level::Debug => wit::LogLevel::Debug,
        Level::Info => wit::LogLevel::Info,
        Level::Warn => wit::LogLevel::Warn,
        Level::Error => wit::LogLevel::Error,
    };
    counsel::policy::host::log(level, message);
}

#[cfg(test)]
mod tests;
