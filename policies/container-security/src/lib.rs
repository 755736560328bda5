//! Counsel policy `container-security`: the container settings that separate
//! a compromised app from a compromised node.
//!
//! Rules (each checked on every container: init, regular and ephemeral, in
//! every workload kind):
//! - `privileged`: no container runs privileged;
//! - `allow-privilege-escalation`: every container sets
//!   `allowPrivilegeEscalation: false` (not required of Windows pods, as in
//!   the Pod Security Standards);
//! - `run-as-non-root`: the pod or every container sets `runAsNonRoot: true`,
//!   a container's setting overriding the pod's, as Pod Security Admission
//!   decides it.

mod containers;
mod run_as_non_root;

use counsel_policy::{
    Findings, FixSafety, Metadata, NoSettings, Policy, Request, Rule, Severity, Verdict,
    export_policy, workload,
};

/// No container runs privileged.
pub const PRIVILEGED: Rule = Rule::new(
    "privileged",
    "Containers must not run privileged",
    "A privileged container has every Linux capability and sees the node's devices: whoever \
     gets into it, through a bug in the app say, controls the node and every pod on it.",
)
.docs("https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline")
.severity(Severity::Critical)
// Safe to apply unattended: privileged mode gives device and kernel access
// that ordinary programs never use; the pod starts the same without it.
.fix_safety(FixSafety::Safe);

/// Every container sets `allowPrivilegeEscalation: false`.
pub const ALLOW_PRIVILEGE_ESCALATION: Rule = Rule::new(
    "allow-privilege-escalation",
    "Containers must set allowPrivilegeEscalation to false",
    "Unless allowPrivilegeEscalation is false, a process in the container can gain more \
     privileges than it started with (through setuid programs such as sudo), turning a small \
     foothold into root inside the container.",
)
.docs("https://kubernetes.io/docs/concepts/security/pod-security-standards/#restricted")
.severity(Severity::High)
// Safe: only setuid programs and file capabilities stop working, which
// services do not use. (Its fix also turns privileged off where it is on.)
.fix_safety(FixSafety::Safe);

/// The pod or every container sets `runAsNonRoot: true`.
pub const RUN_AS_NON_ROOT: Rule = Rule::new(
    "run-as-non-root",
    "Containers must run as a non-root user",
    "Root in a container is root on the node the moment it escapes the container. With \
     runAsNonRoot: true the kubelet refuses to start a container whose user would be root, so \
     an image that quietly runs as root is caught before it runs.",
)
.docs("https://kubernetes.io/docs/tasks/configure-pod-container/security-context/")
.severity(Severity::High)
// Only a suggestion: many images (nginx, most official ones) run as root,
// and the kubelet refuses to start them with runAsNonRoot: true.
.fix_safety(FixSafety::Suggestion);

/// The policy.
pub struct ContainerSecurity;

impl Policy for ContainerSecurity {
    type Settings = NoSettings;

    fn metadata() -> Metadata {
        Metadata {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Containers do not run privileged, cannot escalate their privileges, \
                          and do not run as root."
                .into(),
            kinds: workload::kinds(),
            rules: vec![PRIVILEGED, ALLOW_PRIVILEGE_ESCALATION, RUN_AS_NON_ROOT],
        }
    }

    fn validate(request: &Request, _: &NoSettings) -> Verdict {
        let mut out = Findings::default();
        // On DELETE there is nothing new to run.
        let Some(object) = request.object() else {
            return Verdict::default();
        };
        let found = workload::pod_specs(object);
        out.extend(found.problems);
        for spec in &found.specs {
            out.extend(spec.container_problems());
            let containers = containers::read(spec, &mut out);
            for container in &containers {
                containers::check_privileged(container, &mut out);
                // The Pod Security Standards exempt Windows pods: Windows has
                // no setuid, and the kubelet rejects the field there.
                if spec.os_name() != Some("windows") {
                    containers::check_privilege_escalation(container, &mut out);
                }
            }
            run_as_non_root::check(spec, &containers, &mut out);
        }
        let mut verdict = Verdict::default();
        verdict.extend(out);
        verdict
    }
}

export_policy!(ContainerSecurity);

#[cfg(test)]
mod tests;
