//! seLinuxOptions: only the container types, no user, no role.

use counsel_policy::violation;

use super::Ctx;
use crate::fields::{Findings, Obj};
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
    if let Some(sc) = &pod.security_context {
        check(sc, "pod", ctx, out);
    }
    for c in &pod.containers {
        if let Some(sc) = &c.security_context {
            check(sc, &c.describe(), ctx, out);
        }
    }
}

fn check(sc: &Obj<'_>, who: &str, ctx: Ctx, out: &mut Findings) {
    let Some(options) = sc.object("seLinuxOptions", out) else {
        return;
    };
    if let Some(kind) = options.str("type", out)
        && !type_allowed(kind, ctx.minor)
    {
        let ptr = options.at("type");
        let allowed = if ctx.minor >= 31 {
            "container_t, container_init_t, container_kvm_t or container_engine_t"
        } else {
            "container_t, container_init_t or container_kvm_t"
        };
        out.push(
            violation(SE_LINUX)
                .at(ptr.as_str())
                .found_opt(options.value("type"))
                .message(format!(
                    "{who} must not set securityContext.seLinuxOptions.type to {kind:?}"
                ))
                .fix_remove(ptr.as_str())
                .hint(format!(
                    "Without a type the runtime labels the container container_t. If it needs \
                     another type, only {allowed} are allowed."
                )),
        );
    }
    for field in ["user", "role"] {
        let Some(value) = options.str(field, out) else {
            continue;
        };
        if value.is_empty() {
            continue;
        }
        let ptr = options.at(field);
        out.push(
            violation(SE_LINUX)
                .at(ptr.as_str())
                .found_opt(options.value(field))
                .message(format!(
                    "{who} must not set securityContext.seLinuxOptions.{field} ({value:?})"
                ))
                .fix_remove(ptr.as_str()),
        );
    }
}
