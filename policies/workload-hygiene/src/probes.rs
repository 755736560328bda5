//! `liveness-probe` and `readiness-probe`, for long-running workloads.

use counsel_policy::workload::{ContainerList, ContainerRef};
use counsel_policy::{Findings, Node, violation};

use crate::Enabled;
use crate::rules::{LIVENESS_PROBE, READINESS_PROBE};

/// Whether the pods of `kind` (with pod spec `spec`) run until stopped:
/// the controllers that keep pods running, and Pods or PodTemplates whose
/// `restartPolicy` is `Always` (the default). Jobs and CronJobs run to
/// completion.
pub fn long_running(kind: &str, spec: &Node<'_>) -> bool {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "ReplicationController" => true,
        "Pod" | "PodTemplate" => matches!(
            spec.field("restartPolicy").value().and_then(|p| p.as_str()),
            None | Some("Always")
        ),
        _ => false,
    }
}

/// Checks that a regular container of a long-running pod has both probes.
/// Init and ephemeral containers are not expected to have them.
pub fn check(c: &ContainerRef<'_>, enabled: &Enabled, out: &mut Findings) {
    if c.list != ContainerList::Regular {
        return;
    }
    let who = c.label();
    let container = c.node();
    let probes = [
        (
            &LIVENESS_PROBE,
            "livenessProbe",
            "liveness",
            "Add a livenessProbe that fails only when the process is stuck, for example an \
             httpGet on /healthz with failureThreshold: 3. Keep it cheaper and more lenient \
             than the readiness probe, or a slow moment turns into a restart storm.",
        ),
        (
            &READINESS_PROBE,
            "readinessProbe",
            "readiness",
            "Add a readinessProbe that succeeds only when the container can serve, for example \
             an httpGet on /ready (or a tcpSocket on the serving port).",
        ),
    ];
    for (rule, key, name, hint) in probes {
        if !enabled.on(rule) {
            continue;
        }
        // A probe of another type is reported as invalid-field, not missing.
        let probe = container.field(key);
        if probe.object(out).is_none() && !probe.is_set() {
            out.push(
                violation(rule)
                    .at(&probe)
                    .message(format!("{who} has no {name} probe"))
                    .hint(hint),
            );
        }
    }
}
