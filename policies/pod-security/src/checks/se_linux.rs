//! seLinuxOptions: only the container types, no user, no role.

use counsel_policy::{Findings, Node, violation};

use super::Ctx;
use crate::pod::Pod;
use crate::rules::SE_LINUX;

/// Whether `kind` is an allowed SELinux type at policy version `minor`.
fn type_allowed(kind: &str, minor: u32) -> bool {
    match kind {
        "" | "container_t" | "container_init_t" | "container_kvm_t" => true,
        "container_engine_t" => minor >= 31,
        _ => false,
    }
}

/// seLinuxOptions: where set (pod or container), `type` is empty or a
/// container type, and `user` and `role` are empty. `level` is free.
pub fn se_linux_options(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    check(&pod.security_context, "pod", ctx, out);
    for c in &pod.containers {
        check(&c.security_context, &c.label, ctx, out);
    }
}

fn check(sc: &Node<'_>, who: &str, ctx: Ctx, out: &mut Findings) {
    let Some(options) = sc.field("seLinuxOptions").object(out) else {
        return;
    };
    let field = options.field("type");
    if let Some(kind) = field.str(out)
        && !type_allowed(kind, ctx.minor)
    {
        let allowed = if ctx.minor >= 31 {
            "container_t, container_init_t, container_kvm_t or container_engine_t"
        } else {
            "container_t, container_init_t or container_kvm_t"
        };
        out.push(
            violation(&SE_LINUX)
                .at(&field)
                .message(format!(
                    "{who} must not set securityContext.seLinuxOptions.type to {kind:?}"
                ))
                .fix_remove(&field)
                .hint(format!(
                    "Without a type the runtime labels the container container_t. If it needs \
                     another type, only {allowed} are allowed."
                )),
        );
    }
    for name in ["user", "role"] {
        let field = options.field(name);
        let Some(value) = field.str(out) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        out.push(
            violation(&SE_LINUX)
                .at(&field)
                .message(format!(
                    "{who} must not set securityContext.seLinuxOptions.{name} ({value:?})"
                ))
                .fix_remove(&field),
        );
    }
}
