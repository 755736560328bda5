//! Running the rules on one request.

use cel_interpreter::common::types::{CelBool, CelMap, CelMapKey, CelString};
use cel_interpreter::common::value::Val;
use cel_interpreter::{Context, IdedExpr, Value as CelValue};
use counsel_policy::workload::{self, ContainerRef, PodSpecRef};
use counsel_policy::{Request, Verdict, Violation, pointer, violation};
use serde_json::Value;

use crate::json::{JsonObject, to_json, to_val};
use crate::program::parse;
use crate::settings::{FixSpec, ForEach, RuleSpec};

/// What a failed rule says, besides its message.
pub struct Explanation<'a> {
    /// The rule id.
    pub id: &'a str,
    /// Where, relative to the element evaluated.
    pub path: Option<&'a str>,
    /// Machine fixes.
    pub fixes: &'a [FixSpec],
    /// What a person should do.
    pub hint: Option<&'a str>,
}

/// The element a rule is evaluated for: the object, or one container or
/// pod spec in it. Borrowed: most evaluations find nothing to report.
pub struct Element<'a> {
    /// JSON Pointer of the element in the object (`""`: the object).
    pub pointer: &'a str,
    /// The container, which messages name.
    container: Option<&'a ContainerRef<'a>>,
}

/// Binds what every expression sees: `object`, `oldObject`, `request`.
pub fn bind_request<'v>(ctx: &mut Context<'_, 'v>, request: &'v Request) {
    let raw = request.raw();
    let null = &Value::Null;
    ctx.add_variable_as_val("object", to_val(request.object().unwrap_or(null)));
    ctx.add_variable_as_val("oldObject", to_val(request.old_object().unwrap_or(null)));
    ctx.add_variable_as_val("request", to_val(raw));
}

/// Binds `params` (null when none are given).
pub fn bind_params<'v>(ctx: &mut Context<'_, 'v>, params: Option<&'v Value>) {
    ctx.add_variable_as_val("params", to_val(params.unwrap_or(&Value::Null)));
}

/// Runs one Counsel rule, appending its violations to `verdict`.
pub fn rule<'v>(
    spec: &'v RuleSpec,
    request: &'v Request,
    ctx: &Context<'_, 'v>,
    verdict: &mut Verdict,
) {
    if !spec.kinds.is_empty() && !spec.kinds.iter().any(|k| k == request.kind()) {
        return;
    }
    let explanation = Explanation {
        id: &spec.id,
        path: spec.path.as_deref(),
        fixes: &spec.fixes,
        hint: spec.hint.as_deref(),
    };
    let validate = match parse(&spec.validate) {
        Ok(expr) => expr,
        Err(e) => return verdict.push(broken(&explanation, "", &e.to_string())),
    };
    let judge = |ctx: &Context<'_, 'v>, element: &Element<'_>, verdict: &mut Verdict| {
        let failed = match passes(&validate, ctx) {
            Ok(true) => return,
            Ok(false) => None,
            Err(error) => Some(error),
        };
        let text = match (&failed, &spec.message) {
            (Some(error), _) => format!("could not be evaluated: {error}"),
            // Parsed only when needed: most evaluations find nothing.
            (None, Some(source)) => {
                match parse(source)
                    .map_err(|e| e.to_string())
                    .and_then(|expr| string(&expr, ctx))
                {
                    Ok(text) => text,
                    Err(error) => {
                        format!(
                            "{} (its message could not be evaluated: {error})",
                            spec.title
                        )
                    }
                }
            }
            (None, None) => spec.title.clone(),
        };
        let text = match element.container {
            Some(container) => format!("{}: {text}", container.label()),
            None => text,
        };
        let object = request.object().unwrap_or(&Value::Null);
        verdict.push(report(
            &explanation,
            element,
            object,
            ctx,
            text,
            failed.is_some(),
        ));
    };
    let Some(object) = request.object() else {
        // DELETE: only rules about the object itself can judge oldObject.
        if spec.for_each.is_none() {
            judge(ctx, &Element::object(), verdict);
        }
        return;
    };
    match spec.for_each {
        None => judge(ctx, &Element::object(), verdict),
        Some(each) => {
            let found = workload::pod_specs(object);
            verdict.extend(found.problems);
            for pod in &found.specs {
                let mut pod_ctx = ctx.new_inner_scope();
                pod_ctx.add_variable_as_val("podSpec", Box::new(JsonObject::new(pod.spec)));
                if each == ForEach::PodSpecs {
                    judge(&pod_ctx, &Element::pod_spec(pod), verdict);
                    continue;
                }
                verdict.extend(pod.container_problems());
                for container in pod.containers() {
                    let mut container_ctx = pod_ctx.new_inner_scope();
                    container_ctx.add_variable_as_val(
                        "container",
                        Box::new(JsonObject::new(container.container)),
                    );
                    judge(&container_ctx, &Element::container(&container), verdict);
                }
            }
        }
    }
}

impl<'a> Element<'a> {
    /// The object as a whole.
    pub fn object() -> Element<'a> {
        Element {
            pointer: "",
            container: None,
        }
    }

    fn pod_spec(pod: &'a PodSpecRef<'a>) -> Element<'a> {
        Element {
            pointer: &pod.pointer,
            container: None,
        }
    }

    fn container(container: &'a ContainerRef<'a>) -> Element<'a> {
        Element {
            pointer: &container.pointer,
            container: Some(container),
        }
    }
}

/// Whether a boolean expression holds.
pub fn passes(expr: &IdedExpr, ctx: &Context<'_, '_>) -> Result<bool, String> {
    let value = CelValue::resolve_val(expr, ctx).map_err(|e| e.to_string())?;
    value
        .downcast_ref::<CelBool>()
        .map(|b| bool::from(*b))
        .ok_or_else(|| format!("it is a {}, not a bool", value.get_type().name()))
}

/// The value of a string expression.
pub fn string(expr: &IdedExpr, ctx: &Context<'_, '_>) -> Result<String, String> {
    let value = CelValue::resolve_val(expr, ctx).map_err(|e| e.to_string())?;
    value
        .downcast_ref::<CelString>()
        .map(|s| s.inner().to_owned())
        .ok_or_else(|| format!("it is a {}, not a string", value.get_type().name()))
}

/// A CEL map of `entries`, as `variables` is bound.
pub fn map<'v>(entries: &[(String, Box<dyn Val + 'v>)]) -> CelMap<'v> {
    entries
        .iter()
        .map(|(name, value)| (CelMapKey::from(name.clone()), value.clone()))
        .collect::<std::collections::HashMap<_, _>>()
        .into()
}

/// The violation of a rule that failed, or could not be evaluated.
pub fn report(
    explanation: &Explanation<'_>,
    element: &Element<'_>,
    object: &Value,
    ctx: &Context<'_, '_>,
    message: String,
    broken_rule: bool,
) -> Violation {
    let at = explanation.path.map_or_else(
        || element.pointer.to_owned(),
        |path| resolve(element.pointer, path),
    );
    let mut found = violation(explanation.id)
        .at(&at)
        .message(message)
        .found_opt(object.pointer(&at).filter(|_| !at.is_empty()));
    if broken_rule {
        return found.hint(
            "The rule's expression failed on this object (often a field it reads is missing \
             and the rule does not check `has(...)` first); tell the people who run Counsel.",
        );
    }
    let mut fixes_ok = true;
    for fix in explanation.fixes {
        match (&fix.set, &fix.value, &fix.remove) {
            (Some(path), Some(value), _) => {
                let value = parse(value).map_err(|e| e.to_string()).and_then(|expr| {
                    CelValue::resolve_val(&expr, ctx)
                        .map_err(|e| e.to_string())
                        .and_then(|v| to_json(&*v))
                });
                match value {
                    Ok(value) => found = found.fix_set(resolve(element.pointer, path), value),
                    Err(error) => {
                        fixes_ok = false;
                        found =
                            found.hint(format!("(the rule's fix could not be computed: {error})"));
                    }
                }
            }
            (_, _, Some(path)) => found = found.fix_remove(resolve(element.pointer, path)),
            _ => {}
        }
    }
    if !fixes_ok {
        found.fixes.clear();
    }
    match explanation.hint {
        Some(hint) if found.hint.is_none() => found.hint(hint),
        _ => found,
    }
}

fn broken(explanation: &Explanation<'_>, at: &str, error: &str) -> Violation {
    violation(explanation.id)
        .at(at)
        .message(format!("could not be evaluated: {error}"))
        .hint("The rule is broken; tell the people who run Counsel.")
}

/// `path` (dotted field names, or a JSON Pointer) below `base`.
pub fn resolve(base: &str, path: &str) -> String {
    if path.starts_with('/') {
        return format!("{base}{path}");
    }
    path.split('.')
        .filter(|token| !token.is_empty())
        .fold(base.to_owned(), |at, token| pointer::push(&at, token))
}
