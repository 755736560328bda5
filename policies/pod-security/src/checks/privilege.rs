//! privileged, allowPrivilegeEscalation, windowsHostProcess, procMount and
//! sysctls.

use counsel_policy::{Findings, Node, Value, violation};

use super::Ctx;
use crate::pod::Pod;
use crate::rules::{
    ALLOW_PRIVILEGE_ESCALATION, BASELINE_DOCS, PRIVILEGED, PROC_MOUNT, RESTRICTED_DOCS, SYSCTLS,
    WINDOWS_HOST_PROCESS,
};

const PRIVILEGED_HINT: &str = "If the container needs one specific power, grant that capability \
     instead of privileged mode (at baseline; restricted allows only NET_BIND_SERVICE).";

/// privileged: no container sets `securityContext.privileged: true`.
pub fn privileged(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        let field = c.security_context.field("privileged");
        if field.bool(out) == Some(true) {
            let message = format!("{} runs privileged", c.label);
            let v = violation(&PRIVILEGED).at(&field).message(message);
            out.push(v.fix_to(false).hint(PRIVILEGED_HINT));
        }
    }
}

/// allowPrivilegeEscalation: every container sets it to exactly `false`
/// (Windows pods are exempt from v1.25).
pub fn allow_privilege_escalation(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if pod.windows && ctx.minor >= 25 {
        return;
    }
    for c in &pod.containers {
        let field = c.security_context.field("allowPrivilegeEscalation");
        let message = match field.bool(out) {
            Some(false) => continue,
            Some(true) => format!("{} allows privilege escalation", c.label),
            None => format!(
                "{} does not set securityContext.allowPrivilegeEscalation=false",
                c.label
            ),
        };
        out.push(
            violation(&ALLOW_PRIVILEGE_ESCALATION)
                .at(&field)
                .message(message)
                .fix_to(false),
        );
    }
}

/// windowsHostProcess: neither the pod nor a container sets
/// `windowsOptions.hostProcess: true`.
pub fn windows_host_process(pod: &Pod<'_>, out: &mut Findings) {
    let check = |sc: &Node<'_>, who: &str, out: &mut Findings| {
        let Some(options) = sc.field("windowsOptions").object(out) else {
            return;
        };
        let field = options.field("hostProcess");
        if field.bool(out) == Some(true) {
            out.push(
                violation(&WINDOWS_HOST_PROCESS)
                    .at(&field)
                    .message(format!(
                        "{who} must not set securityContext.windowsOptions.hostProcess=true"
                    ))
                    .fix_to(false),
            );
        }
    };
    check(&pod.security_context, "pod", out);
    for c in &pod.containers {
        check(&c.security_context, &c.label, out);
    }
}

/// procMount: a set `securityContext.procMount` must be `Default`. The
/// baseline check lets user-namespace pods through from v1.35; the
/// restricted variant (`restricted`) never does.
pub fn proc_mount(pod: &Pod<'_>, ctx: Ctx, restricted: bool, out: &mut Findings) {
    if !restricted && ctx.minor >= 35 && pod.user_namespace {
        return;
    }
    for c in &pod.containers {
        let field = c.security_context.field("procMount");
        let Some(mount) = field.str(out) else {
            continue;
        };
        if mount != "Default" {
            out.push(
                violation(&PROC_MOUNT)
                    .at(&field)
                    .message(format!(
                        "{} must not set securityContext.procMount to {mount:?}",
                        c.label
                    ))
                    .fix_to("Default")
                    .docs(if restricted {
                        RESTRICTED_DOCS
                    } else {
                        BASELINE_DOCS
                    }),
            );
        }
    }
}

/// The sysctls every pod may set at policy version `minor`.
fn sysctl_allowed(name: &str, minor: u32) -> bool {
    let since = match name {
        "kernel.shm_rmid_forced"
        | "net.ipv4.ip_local_port_range"
        | "net.ipv4.tcp_syncookies"
        | "net.ipv4.ping_group_range"
        | "net.ipv4.ip_unprivileged_port_start" => 0,
        "net.ipv4.ip_local_reserved_ports" => 27,
        "net.ipv4.tcp_keepalive_time"
        | "net.ipv4.tcp_fin_timeout"
        | "net.ipv4.tcp_keepalive_intvl"
        | "net.ipv4.tcp_keepalive_probes" => 29,
        "net.ipv4.tcp_rmem" | "net.ipv4.tcp_wmem" => 32,
        "net.ipv4.tcp_slow_start_after_idle" | "net.ipv4.tcp_notsent_lowat" => 37,
        _ => return false,
    };
    since <= minor
}

/// sysctls: every `spec.securityContext.sysctls[*].name` is on the allow-list.
/// The fix keeps the allowed entries (and removes the list when none is left),
/// so every violation carries the same, order-independent edit.
pub fn sysctls(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    let list = pod.security_context.field("sysctls");
    let mut kept: Vec<Value> = Vec::new();
    let mut bad: Vec<(Node<'_>, &str)> = Vec::new();
    for entry in list.objects(out) {
        let name = entry.field("name");
        let text = name.str(out).unwrap_or("");
        if sysctl_allowed(text, ctx.minor) {
            kept.extend(entry.value().cloned());
        } else {
            bad.push((name, text));
        }
    }
    for (name, text) in bad {
        let v = violation(&SYSCTLS)
            .at(&name)
            .message(format!("pod must not set sysctl {text:?}"))
            .hint(
                "Only sysctls scoped to the pod's own network namespace are allowed: \
                 kernel.shm_rmid_forced and a set of net.ipv4.* ones (ip_local_port_range, \
                 tcp_syncookies, ...). Node-wide kernel settings belong to the node's \
                 configuration, not to a pod.",
            );
        out.push(if kept.is_empty() {
            v.fix_remove(&list)
        } else {
            v.fix_set(&list, Value::Array(kept.clone()))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::sysctl_allowed;

    #[test]
    fn the_sysctl_allow_list_grows_with_the_version() {
        assert!(sysctl_allowed("kernel.shm_rmid_forced", 0));
        assert!(!sysctl_allowed("net.ipv4.ip_local_reserved_ports", 26));
        assert!(sysctl_allowed("net.ipv4.ip_local_reserved_ports", 27));
        assert!(!sysctl_allowed("net.ipv4.tcp_fin_timeout", 28));
        assert!(sysctl_allowed("net.ipv4.tcp_fin_timeout", 29));
        assert!(!sysctl_allowed("net.ipv4.tcp_wmem", 31));
        assert!(sysctl_allowed("net.ipv4.tcp_wmem", 32));
        assert!(!sysctl_allowed("net.ipv4.tcp_notsent_lowat", 36));
        assert!(sysctl_allowed("net.ipv4.tcp_notsent_lowat", 37));
        assert!(!sysctl_allowed("net/ipv4/tcp_syncookies", 37));
        assert!(!sysctl_allowed("kernel.msgmax", 37));
    }
}
