//! `run-as-non-root`, decided as Pod Security Admission decides it: a
//! container's `runAsNonRoot` overrides the pod's; the pod must not set it to
//! false; every container must end up with `true`.

use counsel_policy::field;
use counsel_policy::workload::PodSpecRef;
use counsel_policy::{Verdict, Violation, json, violation};

use crate::RUN_AS_NON_ROOT;
use crate::containers::Container;

const HINT: &str = "The image must then run as a non-zero user: set runAsUser, or use a \
                    numeric USER in the image, or the kubelet refuses to start the container.";

pub(crate) fn check(spec: &PodSpecRef, containers: &[Container], verdict: &mut Verdict) {
    // The pod's setting: Ok(None) when unset; Err when unreadable (reported).
    let pod_context = field::object(spec.spec, "securityContext", &spec.pointer)
        .map_err(|problem| verdict.push(problem));
    let pod_context_pointer = spec.pointer_to(&["securityContext"]);
    let pod_setting = pod_context.and_then(|context| match context {
        Some(context) => field::boolean(context, "runAsNonRoot", &pod_context_pointer)
            .map_err(|problem| verdict.push(problem)),
        None => Ok(None),
    });
    let pod_pointer = spec.pointer_to(&["securityContext", "runAsNonRoot"]);

    let mut explicitly_false = Vec::new();
    let mut unset = Vec::new();
    for container in containers {
        match container.flag("runAsNonRoot", verdict) {
            Ok(Some(false)) => explicitly_false.push(container),
            Ok(None) => unset.push(container),
            // true is fine; a wrong type was reported as invalid-field.
            Ok(Some(true)) | Err(()) => {}
        }
    }

    for container in &explicitly_false {
        let path = container.field_pointer("runAsNonRoot");
        verdict.push(
            base(
                &path,
                format!("{} sets runAsNonRoot to false", container.at.label()),
            )
            .found(&json!(false))
            .fix_set(&path, json!(true)),
        );
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
            verdict.push(
                base(&pod_pointer, message)
                    .found(&json!(false))
                    .fix_set(&pod_pointer, json!(true)),
            );
        }
        Ok(None) if unset.is_empty() => {}
        // With no container opting out, one pod-level setting fixes them all.
        Ok(None) if explicitly_false.is_empty() => {
            let (subject, verb) = match unset.len() {
                1 => ("it", "sets"),
                _ => ("they", "set"),
            };
            verdict.push(
                base(
                    &pod_pointer,
                    format!(
                        "{} may run as root: neither {subject} nor the pod {verb} runAsNonRoot to true",
                        labels(&unset)
                    ),
                )
                .fix_set(&pod_pointer, json!(true)),
            );
        }
        // Some container opts out on purpose: fix each container on its own
        // rather than change the pod under it.
        Ok(None) => {
            for container in &unset {
                let path = container.field_pointer("runAsNonRoot");
                verdict.push(
                    base(
                        &path,
                        format!(
                            "{} may run as root: neither it nor the pod sets runAsNonRoot to true",
                            container.at.label()
                        ),
                    )
                    .fix_set(&path, json!(true)),
                );
            }
        }
        // The pod's setting is unreadable (already reported): do not guess.
        Err(()) => {}
    }
}

fn base(path: &str, message: String) -> Violation {
    violation(RUN_AS_NON_ROOT.id)
        .at(path)
        .message(message)
        .hint(HINT)
}

/// `container "a"`, `container "a" and init container "b"`, `x, y and z`.
fn labels(containers: &[&Container]) -> String {
    let labels: Vec<String> = containers.iter().map(|c| c.at.label()).collect();
    match labels.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}
