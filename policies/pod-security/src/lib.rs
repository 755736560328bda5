//! # pod-security: the Kubernetes Pod Security Standards, exact and explained
//!
//! A Counsel policy that makes the same pass/fail decision as Kubernetes' Pod
//! Security Admission (PSA) at the `baseline` or `restricted` level, for Pods
//! and for the pod templates of every workload kind, and tells the developer
//! what to change: one violation per offending field, with the JSON Pointer
//! into the submitted object, the value found there, a machine fix where a
//! single right one exists and a hint otherwise.
//!
//! ## Settings
//!
//! ```json
//! {"level": "restricted", "version": "latest"}
//! ```
//!
//! - `level`: `baseline` or `restricted` (default `restricted`). `privileged`
//!   checks nothing and is refused: turn the policy off instead.
//! - `version`: `latest` (default) or `v1.N`, the Pod Security Standards
//!   version whose rules apply. Versions above the newest one implemented
//!   ([`settings::MAX_VERSION`], v1.37) are evaluated as the newest, as PSA does.
//!
//! ## Rules
//!
//! One rule per control ([`rules`]): `privileged`, `allow-privilege-escalation`,
//! `run-as-non-root`, `run-as-user`, `capabilities`, `seccomp`,
//! `host-namespaces`, `host-path-volumes`, `host-ports`, `probe-host`,
//! `app-armor`, `se-linux`, `proc-mount`, `sysctls`, `restricted-volumes`,
//! `windows-host-process`, plus the SDK's `invalid-field`. Where PSA has a
//! baseline and a restricted variant of a control (capabilities, seccomp,
//! procMount), both report the same rule; at restricted, `hostPath` volumes
//! are reported as `restricted-volumes`, since that check replaces
//! `host-path-volumes` there, exactly as in PSA.
//!
//! ## Where Counsel differs from PSA on purpose
//!
//! - Workload templates are *enforced*: PSA only warns on a Deployment and
//!   rejects its pods later, out of the developer's sight.
//! - A field of the wrong JSON type (which PSA never sees, because the API
//!   server rejects the object first) is reported as `invalid-field`.
//! - Which namespaces, users or runtime classes are exempt is Counsel's
//!   configuration, not this policy's.
//!
//! ## Fixes
//!
//! Fixes are set at the narrowest scope that makes PSA pass: an explicit bad
//! value is fixed where it is written; a container that sets neither
//! `runAsNonRoot` nor a seccomp profile, under a pod that sets neither, is
//! fixed at pod level, because the pod's value reaches exactly the containers
//! that set none. Fixes of list entries (capabilities, sysctls) rewrite the
//! list to its allowed entries, so every violation's fix can be applied on its
//! own or together with the others, in any order.

mod checks;
mod pod;
pub mod rules;
pub mod settings;
mod update;

use counsel_policy::workload::{self, pod_specs};
use counsel_policy::{Findings, Metadata, Policy, Reads, Request, Verdict};

use crate::checks::Ctx;
use crate::pod::Pod;
pub use crate::settings::{Level, PolicyVersion, Settings};

/// The kinds checked unless configuration says otherwise: every kind with a
/// pod template, and `EphemeralContainers`, what Kubernetes 1.16 to 1.21
/// send for `kubectl debug` (pods/ephemeralcontainers).
pub const KINDS: &[&str] = workload::CONTAINER_KINDS;

/// The Pod Security Standards policy.
pub struct PodSecurity;

impl Policy for PodSecurity {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata {
            name: "pod-security".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "The Kubernetes Pod Security Standards (baseline or restricted), with \
                          the same decision as Pod Security Admission, for Pods and every \
                          workload's pod template: each broken control explained, with a fix."
                .to_owned(),
            kinds: workload::kinds(),
            rules: rules::catalog(),
        }
    }

    fn reads() -> Reads {
        workload::reads(
            &[
                "securityContext",
                "os",
                "hostUsers",
                "hostNetwork",
                "hostPID",
                "hostIPC",
                "volumes",
            ],
            &[
                "image",
                "securityContext",
                "ports",
                "livenessProbe",
                "readinessProbe",
                "startupProbe",
                "lifecycle",
            ],
        )
    }

    fn validate(request: &Request, settings: &Settings) -> Verdict {
        let mut verdict = Verdict::default();
        if !update::evaluated(request) {
            return verdict;
        }
        let Some(object) = request.object() else {
            return verdict;
        };
        let ctx = Ctx {
            level: settings.level,
            minor: settings.version.effective_minor(),
        };
        let specs = pod_specs(object);
        verdict.extend(specs.problems);
        for spec in &specs.specs {
            let mut findings = Findings::default();
            findings.extend(spec.container_problems());
            let pod = Pod::read(spec, &mut findings);
            checks::run(&pod, ctx, &mut findings);
            verdict.extend(findings);
        }
        verdict
    }
}

counsel_policy::export_policy!(PodSecurity);
