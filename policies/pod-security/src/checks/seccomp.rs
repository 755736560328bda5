//! seccompProfile_baseline and seccompProfile_restricted, both reported as
//! the `seccomp` rule.

use counsel_policy::{Findings, Node, Violation, json, violation};

use super::Ctx;
use super::identity::join;
use crate::pod::Pod;
use crate::rules::{BASELINE_DOCS, RESTRICTED_DOCS, SECCOMP};

/// The annotation that set the pod's seccomp profile before v1.19.
const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
/// Prefix of the per-container annotation (suffix: the container's name).
const CONTAINER_ANNOTATION_PREFIX: &str = "container.seccomp.security.alpha.kubernetes.io/";

/// The outcome of looking at one `seccompProfile`.
enum Profile<'a> {
    /// Not set.
    Nil,
    /// `RuntimeDefault` or `Localhost`.
    Allowed,
    /// Set with any other type (missing type counts as `""`).
    Forbidden(Node<'a>),
}

fn profile<'a>(sc: &Node<'a>, out: &mut Findings) -> Profile<'a> {
    let Some(profile) = sc.field("seccompProfile").object(out) else {
        return Profile::Nil;
    };
    match profile.field("type").str(out) {
        Some("RuntimeDefault" | "Localhost") => Profile::Allowed,
        _ => Profile::Forbidden(profile),
    }
}

/// A violation for a set profile with a forbidden type, fixed in place: type
/// `RuntimeDefault`, and no `localhostProfile` (which only `Localhost` takes);
/// `docs` links the level that reports it.
fn forbidden(profile: &Node<'_>, who: &str, docs: &str, out: &mut Findings) -> Violation {
    let field = profile.field("type");
    let shown = field.str(out).unwrap_or("");
    let v = violation(&SECCOMP)
        .at(&field)
        .message(format!(
            "{who} must not set securityContext.seccompProfile.type to {shown:?}"
        ))
        .fix_to("RuntimeDefault")
        .docs(docs);
    if profile.has("localhostProfile") {
        v.fix_remove(&profile.field("localhostProfile"))
    } else {
        v
    }
}

/// seccompProfile_baseline. From v1.19: a set profile, on the pod or any
/// container, has type `RuntimeDefault` or `Localhost`. Before v1.19 only
/// the alpha annotations are checked.
pub fn baseline(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if ctx.minor < 19 {
        return annotations(pod, out);
    }
    if let Profile::Forbidden(p) = profile(&pod.security_context, out) {
        let v = forbidden(&p, "pod", BASELINE_DOCS, out);
        out.push(v);
    }
    for c in &pod.containers {
        if let Profile::Forbidden(p) = profile(&c.security_context, out) {
            let v = forbidden(&p, &c.label, BASELINE_DOCS, out);
            out.push(v);
        }
    }
}

/// Before v1.19: the pod annotation and each visited container's annotation
/// must be `runtime/default`, `docker/default` or `localhost/...`.
fn annotations(pod: &Pod<'_>, out: &mut Findings) {
    let mut keys = vec![POD_ANNOTATION.to_owned()];
    for c in &pod.containers {
        let key = format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    for key in keys {
        let Some(annotation) = pod.annotations.get(&key) else {
            continue;
        };
        let value = annotation.value;
        if matches!(value, "runtime/default" | "docker/default") || value.starts_with("localhost/")
        {
            continue;
        }
        // `found` is what Kubernetes reads: `""` for a `null` value.
        out.push(
            violation(&SECCOMP)
                .at(&annotation.node)
                .found(&json!(value))
                .message(format!(
                    "annotation {key}={value:?} sets a forbidden seccomp profile"
                ))
                .fix_to("runtime/default")
                .docs(BASELINE_DOCS),
        );
    }
}

/// seccompProfile_restricted (v1.19; Windows pods exempt from v1.25): the pod
/// sets an allowed profile, or every container does, and nobody sets a
/// forbidden one. Containers without a profile under a pod without one are
/// one violation at pod level, where the fix sets it: the pod's profile
/// reaches exactly the containers that set none.
pub fn restricted(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if pod.windows && ctx.minor >= 25 {
        return;
    }
    let pod_profile = profile(&pod.security_context, out);
    if let Profile::Forbidden(p) = &pod_profile {
        let v = forbidden(p, "pod", RESTRICTED_DOCS, out);
        out.push(v);
    }
    let mut unset = Vec::new();
    let mut forbidden_containers = Vec::new();
    for c in &pod.containers {
        match profile(&c.security_context, out) {
            Profile::Allowed => {}
            Profile::Forbidden(p) => {
                forbidden_containers.push(forbidden(&p, &c.label, RESTRICTED_DOCS, out))
            }
            // A forbidden pod profile is reported above, and its fix covers
            // this container too.
            Profile::Nil if matches!(pod_profile, Profile::Nil) => unset.push(c.label.clone()),
            Profile::Nil => {}
        }
    }
    // Pod level first, as everywhere (only when the pod sets nothing, so
    // never beside a forbidden pod profile).
    if !unset.is_empty() {
        // Unset (or not an object, reported): nothing was found there.
        let pod_type = pod.security_context.field("seccompProfile").field("type");
        out.push(
            violation(&SECCOMP)
                .at(pod_type.pointer())
                .message(format!(
                    "{} {} no seccomp profile: neither {} nor the pod {} \
                     securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                    join(&unset),
                    if unset.len() == 1 { "has" } else { "have" },
                    if unset.len() == 1 { "it" } else { "they" },
                    if unset.len() == 1 { "sets" } else { "set" },
                ))
                .fix_to("RuntimeDefault")
                .docs(RESTRICTED_DOCS),
        );
    }
    for v in forbidden_containers {
        out.push(v);
    }
}
