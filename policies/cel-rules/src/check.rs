//! Checking settings at load: every expression compiles, names what it may
//! and has the right type; every rule has what it needs. An error names the
//! setting (`rules[2].validate`, which Counsel turns into a line of
//! counsel.yaml), the rule, and the position inside the expression.

use std::collections::HashSet;

use crate::program::{Expect, check};
use crate::settings::{FixSpec, ForEach, RuleSpec, Settings, VapEntry, validation_id};

/// What every expression sees.
const REQUEST_VARIABLES: [&str; 4] = ["object", "oldObject", "request", "params"];

/// The names a rule's expressions may use.
pub fn rule_variables(for_each: Option<ForEach>) -> Vec<&'static str> {
    let mut names = REQUEST_VARIABLES.to_vec();
    match for_each {
        Some(ForEach::Containers) => names.extend(["container", "podSpec"]),
        Some(ForEach::PodSpecs) => names.push("podSpec"),
        None => {}
    }
    names
}

/// The names a ValidatingAdmissionPolicy's expressions may use.
pub const VAP_VARIABLES: [&str; 6] = [
    "object",
    "oldObject",
    "request",
    "params",
    "variables",
    "namespaceObject",
];

/// Checks all settings; the error is the SDK's `setting `PATH`: ...` form.
pub fn settings(settings: &Settings) -> Result<(), String> {
    let mut ids = HashSet::new();
    for (index, rule) in settings.rules.iter().enumerate() {
        let at = format!("rules[{index}]");
        if !ids.insert(rule.id.clone()) {
            return Err(format!(
                "setting `{at}.id`: the rule id {:?} is used twice",
                rule.id
            ));
        }
        check_rule(rule, &at)?;
    }
    for (index, entry) in settings.validating_admission_policies.iter().enumerate() {
        let at = format!("validatingAdmissionPolicies[{index}]");
        check_vap(entry, &at, &mut ids)?;
    }
    Ok(())
}

fn check_rule(rule: &RuleSpec, at: &str) -> Result<(), String> {
    if !is_id(&rule.id) {
        return Err(format!(
            "setting `{at}.id`: {:?} is not a rule id; use lowercase letters, digits and '-'",
            rule.id
        ));
    }
    let names = rule_variables(rule.for_each);
    let label = format!("rule {:?}", rule.id);
    expression(
        &rule.validate,
        &names,
        Expect::Bool,
        &format!("{at}.validate"),
        &label,
    )?;
    if let Some(message) = &rule.message {
        expression(
            message,
            &names,
            Expect::String,
            &format!("{at}.message"),
            &label,
        )?;
    }
    fixes(&rule.fixes, &names, at, &label)
}

fn check_vap(entry: &VapEntry, at: &str, ids: &mut HashSet<String>) -> Result<(), String> {
    let vap = &entry.policy;
    let name = &vap.metadata.name;
    if name.is_empty() {
        return Err(format!(
            "setting `{at}.policy.metadata.name`: the ValidatingAdmissionPolicy needs a name"
        ));
    }
    let label = format!("ValidatingAdmissionPolicy {name:?}");
    let spec = &vap.spec;
    if spec.validations.is_empty() {
        return Err(format!(
            "setting `{at}.policy.spec.validations`: {label} has no validations"
        ));
    }
    if entry.validations.len() > spec.validations.len() {
        return Err(format!(
            "setting `{at}.validations[{}]`: {label} has only {} validations",
            spec.validations.len(),
            spec.validations.len()
        ));
    }
    let names = VAP_VARIABLES;
    for (index, condition) in spec.match_conditions.iter().enumerate() {
        let field = format!("{at}.policy.spec.matchConditions[{index}].expression");
        expression(&condition.expression, &names, Expect::Bool, &field, &label)?;
    }
    for (index, variable) in spec.variables.iter().enumerate() {
        let field = format!("{at}.policy.spec.variables[{index}].expression");
        expression(&variable.expression, &names, Expect::Any, &field, &label)?;
    }
    let count = spec.validations.len();
    for (index, validation) in spec.validations.iter().enumerate() {
        let extra = entry.validations.get(index);
        let id = validation_id(name, index, count, extra.and_then(|e| e.id.as_deref()));
        let spec_at = format!("{at}.policy.spec.validations[{index}]");
        if !is_id(&id) {
            let field = match extra.and_then(|e| e.id.as_ref()) {
                Some(_) => format!("{at}.validations[{index}].id"),
                None => format!("{at}.policy.metadata.name"),
            };
            return Err(format!(
                "setting `{field}`: the rule id {id:?} is not kebab-case; give the validation an `id` in `validations`"
            ));
        }
        if !ids.insert(id.clone()) {
            return Err(format!(
                "setting `{spec_at}`: the rule id {id:?} is used twice"
            ));
        }
        let label = format!("{label}, validation {}", index + 1);
        let field = format!("{spec_at}.expression");
        expression(&validation.expression, &names, Expect::Bool, &field, &label)?;
        if let Some(message) = &validation.message_expression {
            let field = format!("{spec_at}.messageExpression");
            expression(message, &names, Expect::String, &field, &label)?;
        }
        if let Some(extra) = extra {
            fixes(
                &extra.fixes,
                &names,
                &format!("{at}.validations[{index}]"),
                &label,
            )?;
        }
    }
    Ok(())
}

fn fixes(fixes: &[FixSpec], names: &[&str], at: &str, label: &str) -> Result<(), String> {
    for (index, fix) in fixes.iter().enumerate() {
        let at = format!("{at}.fixes[{index}]");
        match (&fix.set, &fix.value, &fix.remove) {
            (Some(_), Some(value), None) => {
                expression(value, names, Expect::Any, &format!("{at}.value"), label)?
            }
            (None, None, Some(_)) => {}
            _ => {
                return Err(format!(
                    "setting `{at}`: {label}: a fix is either `set` (a path) with `value` (CEL), or `remove` (a path)"
                ));
            }
        }
    }
    Ok(())
}

fn expression(
    source: &str,
    names: &[&str],
    expect: Expect,
    at: &str,
    label: &str,
) -> Result<(), String> {
    check(source, names, expect).map_err(|e| format!("setting `{at}`: {label}: {e}"))
}

/// Kebab-case, as rule ids are everywhere in Counsel.
fn is_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
}
