//! `run-as-non-root`, decided as Pod Security Admission decides it: a
//! container's `runAsNonRoot` overrides the pod's; the pod must not set it to
//! false; every container must end up with `true`.

use counsel_policy::workload::PodSpecRef;
use counsel_policy::{Findings, Node, Violation, violation};

use crate::RUN_AS_NON_ROOT;
use crate::containers::{Container, flag};

const HINT: &str = "The image must then run as a non-zero user: set runAsUser, or use a \
                    numeric USER in the image, or the kubelet refuses to start the container.";

pub(crate) fn check(spec: &PodSpecRef, containers: &[Container], out: &mut Findings) {
    let pod_context = spec.node().field("securityContext");
    let pod_field = pod_context.field("runAsNonRoot");
    // The pod's setting: Ok(None) when unset; Err when unreadable (reported).
    let pod_setting = if pod_context.is_set() && pod_context.object(out).is_none() {
        Err(())
    } else {
        flag(&pod_field, out)
    };

    let mut explicitly_false = Vec::new();
    let mut unset = Vec::new();
    for container in containers {
        let field = container.context.field("runAsNonRoot");
        match flag(&field, out) {
            Ok(Some(false)) => explicitly_false.push((container, field)),
            Ok(None) => unset.push((container, field)),
            // true is fine; a wrong type was reported as invalid-field.
            Ok(Some(true)) | Err(()) => {}
        }
    }

    for (container, field) in &explicitly_false {
        let message = format!("{} sets runAsNonRoot to false", container.label);
        out.push(base(field, message).fix_to(true));
    }

    match pod_setting {
        // The pod's true covers every container that does not override it.
        Ok(Some(true)) => {}
        Ok(Some(false)) => {
            let message = match unset.len() {
                0 => "the pod sets runAsNonRoot to false".to_string(),
                1 => format!(
                    "the pod sets runAsNonRoot to false, which {} inherits",
                    labels(&unset)
                ),
                _ => format!(
                    "the pod sets runAsNonRoot to false, which {} inherit",
                    labels(&unset)
                ),
            };
            out.push(base(&pod_field, message).fix_to(true));
        }
        Ok(None) if unset.is_empty() => {}
        // With no container opting out, one pod-level setting fixes them all.
        Ok(None) if explicitly_false.is_empty() => {
            let (subject, verb) = match unset.len() {
                1 => ("it", "sets"),
                _ => ("they", "set"),
            };
            let message = format!(
                "{} may run as root: neither {subject} nor the pod {verb} runAsNonRoot to true",
                labels(&unset)
            );
            out.push(base(&pod_field, message).fix_to(true));
        }
        // Some container opts out on purpose: fix each container on its own
        // rather than change the pod under it.
        Ok(None) => {
            for (container, field) in &unset {
                let message = format!(
                    "{} may run as root: neither it nor the pod sets runAsNonRoot to true",
                    container.label
                );
                out.push(base(field, message).fix_to(true));
            }
        }
        // The pod's setting is unreadable (already reported): do not guess.
        Err(()) => {}
    }
}

/// A violation at `field` (where `found` is what is there: `false`, or
/// nothing).
fn base(field: &Node<'_>, message: String) -> Violation {
    violation(&RUN_AS_NON_ROOT)
        .at(field)
        .message(message)
        .hint(HINT)
}

/// `container "a"`, `container "a" and init container "b"`, `x, y and z`.
fn labels(containers: &[(&Container, Node<'_>)]) -> String {
    let labels: Vec<&str> = containers.iter().map(|(c, _)| c.label.as_str()).collect();
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_owned(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
