//! appArmorProfile: the fields and the beta annotations.

use counsel_policy::node::Entry;
use counsel_policy::{Findings, Node, json, violation};

use crate::pod::Pod;
use crate::rules::APP_ARMOR;

/// Prefix of the per-container AppArmor annotation.
const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

/// appArmorProfile: a set `appArmorProfile` (pod or container) has type
/// `RuntimeDefault` or `Localhost`, and every AppArmor annotation is `""`,
/// `runtime/default` or `localhost/...`.
pub fn app_armor_profile(pod: &Pod<'_>, out: &mut Findings) {
    check_field(&pod.security_context, "pod", out);
    for c in &pod.containers {
        check_field(&c.security_context, &c.label, out);
    }
    for annotation in &pod.annotations {
        if annotation.key.starts_with(ANNOTATION_PREFIX) {
            check_annotation(pod, annotation, out);
        }
    }
}

fn check_field(sc: &Node<'_>, who: &str, out: &mut Findings) {
    let Some(profile) = sc.field("appArmorProfile").object(out) else {
        return;
    };
    let field = profile.field("type");
    let kind = field.str(out);
    if matches!(kind, Some("RuntimeDefault" | "Localhost")) {
        return;
    }
    let v = violation(&APP_ARMOR)
        .at(&field)
        .message(format!(
            "{who} must not set securityContext.appArmorProfile.type to {:?}",
            kind.unwrap_or("")
        ))
        .fix_to("RuntimeDefault");
    // localhostProfile goes only with type Localhost.
    let v = if profile.has("localhostProfile") {
        v.fix_remove(&profile.field("localhostProfile"))
    } else {
        v
    };
    out.push(v);
}

/// A forbidden annotation is set to `runtime/default`, unless an
/// `appArmorProfile` field already applies to its container (its own or the
/// pod's): the API server requires annotation and field to agree, and the
/// field (checked above) is what counts, so the annotation is removed.
fn check_annotation(pod: &Pod<'_>, annotation: &Entry<'_>, out: &mut Findings) {
    let value = annotation.value;
    if value.is_empty() || value == "runtime/default" || value.starts_with("localhost/") {
        return;
    }
    let container = &annotation.key[ANNOTATION_PREFIX.len()..];
    let field_applies = pod.security_context.has("appArmorProfile")
        || pod
            .containers
            .iter()
            .any(|c| c.name == container && c.security_context.has("appArmorProfile"));
    let ptr = &annotation.node;
    let v = violation(&APP_ARMOR)
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
