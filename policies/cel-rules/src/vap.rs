//! Running a ValidatingAdmissionPolicy as Kubernetes would, one rule per
//! validation: `matchConstraints.resourceRules` and `matchConditions`
//! decide whether it applies, `variables` are evaluated in order and seen
//! as `variables.NAME`, and a validation that is false (or fails) is a
//! violation with its `messageExpression`, `message`, or Kubernetes'
//! default message (`failed expression: ...`).

use cel_interpreter::Context;
use cel_interpreter::common::value::Val;
use counsel_policy::{Request, Verdict};
use serde_json::Value;

use crate::evaluate::{self, Element, Explanation, passes, string};
use crate::program::parse;
use crate::settings::{ResourceRule, VapEntry, validation_id};

/// Runs every validation of `entry`, appending violations to `verdict`.
pub fn run<'v>(
    entry: &'v VapEntry,
    request: &'v Request,
    ctx: &Context<'_, 'v>,
    verdict: &mut Verdict,
) {
    let vap = &entry.policy;
    let spec = &vap.spec;
    if let Some(constraints) = &spec.match_constraints
        && !constraints
            .resource_rules
            .iter()
            .any(|rule| matches(rule, request.raw()))
    {
        return;
    }
    let count = spec.validations.len();
    let explanation = |index: usize| {
        let extra = entry.validations.get(index);
        (
            validation_id(
                &vap.metadata.name,
                index,
                count,
                extra.and_then(|e| e.id.as_deref()),
            ),
            extra,
        )
    };
    let object = request.object().unwrap_or(&Value::Null);
    // One violation of the first validation's rule when the policy cannot
    // be applied at all (Kubernetes' failurePolicy: Fail).
    let fail_all = |error: String, verdict: &mut Verdict| {
        let (id, extra) = explanation(0);
        let explained = Explanation {
            id: &id,
            path: extra.and_then(|e| e.path.as_deref()),
            fixes: &[],
            hint: None,
        };
        verdict.push(evaluate::report(
            &explained,
            &Element::object(),
            object,
            ctx,
            error,
            true,
        ));
    };
    for condition in &spec.match_conditions {
        let outcome = parse(&condition.expression)
            .map_err(|e| e.to_string())
            .and_then(|expr| passes(&expr, ctx));
        match outcome {
            Ok(true) => {}
            Ok(false) => return,
            Err(error) => {
                let message = format!(
                    "match condition {:?} could not be evaluated: {error}",
                    condition.name
                );
                return fail_all(message, verdict);
            }
        }
    }
    let mut values: Vec<(String, Box<dyn Val + 'v>)> = Vec::new();
    for variable in &spec.variables {
        let mut scope = ctx.new_inner_scope();
        scope.add_variable_as_val("variables", Box::new(evaluate::map(&values)));
        let value = parse(&variable.expression)
            .map_err(|e| e.to_string())
            .and_then(|expr| {
                cel_interpreter::Value::resolve_val(&expr, &scope)
                    .map(|v| v.into_owned())
                    .map_err(|e| e.to_string())
            });
        match value {
            Ok(value) => values.push((variable.name.clone(), value)),
            Err(error) => {
                let message = format!(
                    "variable {:?} could not be evaluated: {error}",
                    variable.name
                );
                return fail_all(message, verdict);
            }
        }
    }
    let mut scope = ctx.new_inner_scope();
    scope.add_variable_as_val("variables", Box::new(evaluate::map(&values)));
    for (index, validation) in spec.validations.iter().enumerate() {
        let (id, extra) = explanation(index);
        let explained = Explanation {
            id: &id,
            path: extra.and_then(|e| e.path.as_deref()),
            fixes: extra.map_or(&[], |e| e.fixes.as_slice()),
            hint: extra.and_then(|e| e.hint.as_deref()),
        };
        let outcome = parse(&validation.expression)
            .map_err(|e| e.to_string())
            .and_then(|expr| passes(&expr, &scope));
        let (message, failed) = match outcome {
            Ok(true) => continue,
            Ok(false) => (message(validation, &scope), false),
            Err(error) => (format!("could not be evaluated: {error}"), true),
        };
        verdict.push(evaluate::report(
            &explained,
            &Element::object(),
            object,
            &scope,
            message,
            failed,
        ));
    }
}

/// The message of a failed validation, as Kubernetes makes it.
fn message(validation: &crate::settings::Validation, ctx: &Context<'_, '_>) -> String {
    let from_expression = validation
        .message_expression
        .as_deref()
        .and_then(|source| parse(source).ok())
        .and_then(|expr| string(&expr, ctx).ok())
        .filter(|text| !text.trim().is_empty() && !text.contains('\n'));
    from_expression
        .or_else(|| validation.message.clone())
        .unwrap_or_else(|| format!("failed expression: {}", validation.expression.trim()))
}

/// Whether a `resourceRules` entry matches the request's resource and
/// operation.
fn matches(rule: &ResourceRule, request: &Value) -> bool {
    let field = |path: &str| request.pointer(path).and_then(Value::as_str).unwrap_or("");
    let any = |list: &[String], value: &str| list.iter().any(|v| v == "*" || v == value);
    let resource = match field("/subResource") {
        "" => field("/resource/resource").to_owned(),
        sub => format!("{}/{sub}", field("/resource/resource")),
    };
    any(&rule.api_groups, field("/resource/group"))
        && any(&rule.api_versions, field("/resource/version"))
        && any(&rule.operations, field("/operation"))
        && (any(&rule.resources, &resource)
            || rule.resources.iter().any(|r| {
                r.strip_suffix("/*").is_some_and(|base| {
                    !field("/subResource").is_empty() && base == field("/resource/resource")
                })
            }))
}
