//! privileged, allowPrivilegeEscalation, windowsHostProcess, procMount and
//! sysctls.

use counsel_policy::{Value, json, violation};

use super::Ctx;
use crate::fields::{Findings, Obj};
use crate::pod::Pod;
use crate::rules::{
    ALLOW_PRIVILEGE_ESCALATION, BASELINE_DOCS, PRIVILEGED, PROC_MOUNT, RESTRICTED_DOCS, SYSCTLS,
    WINDOWS_HOST_PROCESS,
};

/// privileged: no container sets `securityContext.privileged: true`.
pub fn privileged(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        let Some(sc) = &c.security_context else {
            continue;
        };
        if sc.bool("privileged", out) == Some(true) {
            let ptr = sc.at("privileged");
            out.push(
                violation(PRIVILEGED)
                    .at(ptr.as_str())
                    .found(&Value::Bool(true))
                    .message(format!("{} runs privileged", c.describe()))
                    .fix_set(ptr.as_str(), json!(false))
                    .hint(
                        "If the container needs one specific power, grant that capability \
                         instead of privileged mode (at baseline; restricted allows only \
                         NET_BIND_SERVICE).",
                    ),
            );
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
        let ptr = c.security_ptr(&["allowPrivilegeEscalation"]);
        let (value, found) = match &c.security_context {
            Some(sc) => (
                sc.bool("allowPrivilegeEscalation", out),
                sc.value("allowPrivilegeEscalation"),
            ),
            None => (None, None),
        };
        if value == Some(false) {
            continue;
        }
        let message = match value {
            Some(true) => format!("{} allows privilege escalation", c.describe()),
            _ => format!(
                "{} does not set securityContext.allowPrivilegeEscalation=false",
                c.describe()
            ),
        };
        out.push(
            violation(ALLOW_PRIVILEGE_ESCALATION)
                .at(ptr.as_str())
                .found_opt(found)
                .message(message)
                .fix_set(ptr.as_str(), json!(false)),
        );
    }
}

/// windowsHostProcess: neither the pod nor a container sets
/// `windowsOptions.hostProcess: true`.
pub fn windows_host_process(pod: &Pod<'_>, out: &mut Findings) {
    let check = |sc: &Obj<'_>, who: String, out: &mut Findings| {
        let Some(options) = sc.object("windowsOptions", out) else {
            return;
        };
        if options.bool("hostProcess", out) == Some(true) {
            let ptr = options.at("hostProcess");
            out.push(
                violation(WINDOWS_HOST_PROCESS)
                    .at(ptr.as_str())
                    .found(&Value::Bool(true))
                    .message(format!(
                        "{who} must not set securityContext.windowsOptions.hostProcess=true"
                    ))
                    .fix_set(ptr.as_str(), json!(false)),
            );
        }
    };
    if let Some(sc) = &pod.security_context {
        check(sc, "pod".to_owned(), out);
    }
    for c in &pod.containers {
        if let Some(sc) = &c.security_context {
            check(sc, c.describe(), out);
        }
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
        let Some(sc) = &c.security_context else {
            continue;
        };
        let Some(mount) = sc.str("procMount", out) else {
            continue;
        };
        if mount != "Default" {
            let ptr = sc.at("procMount");
            out.push(
                violation(PROC_MOUNT)
                    .at(ptr.as_str())
                    .found_opt(sc.value("procMount"))
                    .message(format!(
                        "{} must not set securityContext.procMount to {mount:?}",
                        c.describe()
                    ))
                    .fix_set(ptr.as_str(), json!("Default"))
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
    let Some(sc) = &pod.security_context else {
        return;
    };
    let entries = sc.objects("sysctls", out);
    let mut kept: Vec<Value> = Vec::new();
    let mut bad: Vec<(String, Option<&Value>, String)> = Vec::new();
    for (_, entry) in &entries {
        let name = entry.str("name", out).unwrap_or("");
        if sysctl_allowed(name, ctx.minor) {
            kept.push(Value::Object(entry.map.clone()));
        } else {
            bad.push((entry.at("name"), entry.value("name"), name.to_owned()));
        }
    }
    let list = sc.at("sysctls");
    for (ptr, found, name) in bad {
        let v = violation(SYSCTLS)
            .at(ptr.as_str())
            .found_opt(found)
            .message(format!("pod must not set sysctl {name:?}"))
            .hint(
                "Only sysctls scoped to the pod's own network namespace are allowed: \
                 kernel.shm_rmid_forced and a set of net.ipv4.* ones (ip_local_port_range, \
                 tcp_syncookies, ...). Node-wide kernel settings belong to the node's \
                 configuration, not to a pod.",
            );
        let v = if kept.is_empty() {
            v.fix_remove(list.as_str())
        } else {
            v.fix_set(list.as_str(), Value::Array(kept.clone()))
        };
        out.push(v);
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
