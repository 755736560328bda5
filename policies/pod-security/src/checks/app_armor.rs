//! appArmorProfile: the fields and the beta annotations.

use counsel_policy::{json, violation};

use crate::fields::{Findings, Obj};
use crate::pod::{Annotation, Pod};
use crate::rules::APP_ARMOR;

/// Prefix of the per-container AppArmor annotation.
const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// appArmorProfile: a set `appArmorProfile` (pod or container) has type
/// `RuntimeDefault` or `Localhost`, and every AppArmor annotation is `""`,
/// `runtime/default` or `localhost/...`.
pub fn app_armor_profile(pod: &Pod<'_>, out: &mut Findings) {
    if let Some(sc) = &pod.security_context {
        check_field(sc, "pod", out);
    }
    for c in &pod.containers {
        if let Some(sc) = &c.security_context {
            check_field(sc, &c.describe(), out);
        }
    }
    for annotation in &pod.annotations {
        if annotation.key.starts_with(ANNOTATION_PREFIX) {
            check_annotation(pod, annotation, out);
        }
    }
}

fn check_field(sc: &Obj<'_>, who: &str, out: &mut Findings) {
    let Some(profile) = sc.object("appArmorProfile", out) else {
        return;
    };
    let kind = profile.str("type", out);
    if matches!(kind, Some("RuntimeDefault" | "Localhost")) {
        return;
    }
    let ptr = profile.at("type");
    let v = violation(APP_ARMOR)
        .at(ptr.as_str())
        .found_opt(profile.value("type"))
        .message(format!(
            "{who} must not set securityContext.appArmorProfile.type to {:?}",
            kind.unwrap_or("")
        ))
        .fix_set(ptr.as_str(), json!("RuntimeDefault"));
    // localhostProfile goes only with type Localhost.
    let v = if profile.value("localhostProfile").is_some() {
        v.fix_remove(profile.at("localhostProfile").as_str())
    } else {
        v
    };
    out.push(v);
}

/// A forbidden annotation is set to `runtime/default`, unless an
/// `appArmorProfile` field already applies to its container (its own or the
/// pod's): the API server requires annotation and field to agree, and the
/// field (checked above) is what counts, so the annotation is removed.
fn check_annotation(pod: &Pod<'_>, annotation: &Annotation<'_>, out: &mut Findings) {
    let value = annotation.value;
    if value.is_empty() || value == "runtime/default" || value.starts_with("localhost/") {
        return;
    }
    let container = &annotation.key[ANNOTATION_PREFIX.len()..];
    let has_field =
        |sc: Option<&Obj<'_>>| sc.is_some_and(|sc| sc.value("appArmorProfile").is_some());
    let field_applies = has_field(pod.security_context.as_ref())
        || pod
            .containers
            .iter()
            .any(|c| c.name == container && has_field(c.security_context.as_ref()));
    let ptr = annotation.ptr.as_str();
    let v = violation(APP_ARMOR)
        .at(ptr)
        .found(&json!(value))
        .message(format!(
            "annotation {}={value:?} sets a forbidden AppArmor profile",
            annotation.key
        ));
    out.push(if field_applies {
        v.fix_remove(ptr).hint(
            "The annotation is deprecated; securityContext.appArmorProfile is what applies here.",
        )
    } else {
        v.fix_set(ptr, json!("runtime/default")).hint(
            "The annotation is deprecated: prefer securityContext.appArmorProfile.type: \
             RuntimeDefault on the container.",
        )
    });
}
