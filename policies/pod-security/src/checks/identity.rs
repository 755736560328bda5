//! runAsNonRoot and runAsUser (restricted).

use counsel_policy::{Findings, Node, violation};

use super::Ctx;
use crate::pod::Pod;
use crate::rules::{RUN_AS_NON_ROOT, RUN_AS_USER};

const NON_ROOT_HINT: &str = "The image must then run as a numeric non-root user: set USER 1000 \
     (or any non-zero id) in its Dockerfile, or securityContext.runAsUser, or the kubelet \
     refuses to start it.";

/// runAsNonRoot: the pod sets `runAsNonRoot: true` and no container sets
/// `false`, or every container sets `true` itself. User-namespace pods pass
/// from v1.35; Windows pods are not exempt.
///
/// An explicit `false` is fixed where it is written. Containers that set
/// nothing while the pod sets nothing are one violation at pod level, where
/// the fix sets it: the pod's value reaches exactly the containers that set
/// none (and ephemeral debug containers added later), so the field named and
/// the field fixed are the same.
pub fn run_as_non_root(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if ctx.minor >= 35 && pod.user_namespace {
        return;
    }
    let pod_field = pod.security_context.field("runAsNonRoot");
    let pod_value = pod_field.bool(out);
    if pod_value == Some(false) {
        out.push(
            violation(&RUN_AS_NON_ROOT)
                .at(&pod_field)
                .message("pod must not set securityContext.runAsNonRoot=false")
                .fix_to(true)
                .hint(NON_ROOT_HINT),
        );
    }
    let mut unset = Vec::new();
    let mut explicit = Vec::new();
    for c in &pod.containers {
        let field = c.security_context.field("runAsNonRoot");
        match field.bool(out) {
            Some(true) => {}
            Some(false) => explicit.push(
                violation(&RUN_AS_NON_ROOT)
                    .at(&field)
                    .message(format!(
                        "{} must not set securityContext.runAsNonRoot=false",
                        c.label
                    ))
                    .fix_to(true)
                    .hint(NON_ROOT_HINT),
            ),
            // An explicit `false` on the pod is reported above; its fix
            // covers this container too.
            None if pod_value.is_none() => unset.push(c.label.clone()),
            None => {}
        }
    }
    // Pod level first, as everywhere (only when the pod sets nothing, so
    // never beside the pod's own `false`).
    // Unset (or of another type, reported): nothing to show as found.
    if !unset.is_empty() {
        out.push(
            violation(&RUN_AS_NON_ROOT)
                .at(pod_field.pointer())
                .message(format!(
                    "{} may run as root: neither {} nor the pod {} \
                     securityContext.runAsNonRoot=true",
                    join(&unset),
                    if unset.len() == 1 { "it" } else { "they" },
                    if unset.len() == 1 { "sets" } else { "set" },
                ))
                .fix_to(true)
                .hint(NON_ROOT_HINT),
        );
    }
    for v in explicit {
        out.push(v);
    }
}

/// `a`, `a and b`, `a, b and c`.
pub(super) fn join(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// runAsUser (v1.23): neither the pod nor a container sets `runAsUser: 0`.
/// User-namespace pods pass from v1.35. No machine fix: which user id the
/// image works with is the developer's call.
pub fn run_as_user(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if ctx.minor >= 35 && pod.user_namespace {
        return;
    }
    let check = |sc: &Node<'_>, who: &str, out: &mut Findings| {
        let field = sc.field("runAsUser");
        if field.int(out) == Some(0) {
            out.push(
                violation(&RUN_AS_USER)
                    .at(&field)
                    .message(format!("{who} must not set runAsUser=0"))
                    .hint(
                        "Pick a non-zero user id the image works with (many images document one, \
                         e.g. 101 for nginx-unprivileged or 65532 for distroless \"nonroot\"), set \
                         it here, and make sure the files the program writes are owned by that \
                         user or group (securityContext.fsGroup helps for volumes). If the image \
                         only works as root, it needs a rootless variant.",
                    ),
            );
        }
    };
    check(&pod.security_context, "pod", out);
    for c in &pod.containers {
        check(&c.security_context, &c.label, out);
    }
}
