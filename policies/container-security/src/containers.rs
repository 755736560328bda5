//! The per-container rules: `privileged` and `allow-privilege-escalation`.

use counsel_policy::field::{self, Object};
use counsel_policy::workload::{ContainerRef, PodSpecRef};
use counsel_policy::{Value, Verdict, json, violation};

use crate::{ALLOW_PRIVILEGE_ESCALATION, PRIVILEGED};

/// A container whose `securityContext` could be read.
pub(crate) struct Container<'a> {
    pub(crate) at: ContainerRef<'a>,
    /// Its `securityContext`, `None` when missing.
    pub(crate) context: Option<&'a Object>,
    /// Pointer to that `securityContext`.
    pub(crate) context_pointer: String,
    /// Whether the pod is a Windows pod.
    windows: bool,
}

impl Container<'_> {
    /// Pointer to a field of the container's `securityContext`.
    pub(crate) fn field_pointer(&self, name: &str) -> String {
        counsel_policy::pointer::push(&self.context_pointer, name)
    }

    /// The raw value of a `securityContext` field, if set.
    pub(crate) fn raw(&self, name: &str) -> Option<&Value> {
        self.context.and_then(|context| field::get(context, name))
    }

    /// A boolean `securityContext` field; a wrong type is reported and read
    /// as `Err(())` so no rule guesses at it.
    pub(crate) fn flag(&self, name: &str, verdict: &mut Verdict) -> Result<Option<bool>, ()> {
        let Some(context) = self.context else {
            return Ok(None);
        };
        field::boolean(context, name, &self.context_pointer).map_err(|problem| {
            verdict.push(problem);
        })
    }
}

/// Every container of `spec` whose `securityContext` is an object or
/// missing; the others are reported as `invalid-field` and left out.
pub(crate) fn read<'a>(spec: &PodSpecRef<'a>, verdict: &mut Verdict) -> Vec<Container<'a>> {
    let windows = spec.os_name() == Some("windows");
    spec.containers()
        .filter_map(
            |at| match field::object(at.container, "securityContext", &at.pointer) {
                Ok(context) => Some(Container {
                    context_pointer: at.pointer_to(&["securityContext"]),
                    at,
                    context,
                    windows,
                }),
                Err(problem) => {
                    verdict.push(problem);
                    None
                }
            },
        )
        .collect()
}

/// `privileged`: `securityContext.privileged` must not be true.
pub(crate) fn check_privileged(container: &Container, verdict: &mut Verdict) {
    if container.flag("privileged", verdict) != Ok(Some(true)) {
        return;
    }
    let path = container.field_pointer("privileged");
    let found = violation(PRIVILEGED.id)
        .at(&path)
        .message(format!("{} runs privileged", container.at.label()))
        .found(&json!(true));
    verdict.push(if container.windows {
        // Kubernetes refuses the field in Windows pods whatever its value.
        found.fix_remove(&path)
    } else {
        found.fix_set(&path, json!(false)).hint(
            "If the container needs one specific privilege, add just that capability under \
             securityContext.capabilities.add instead.",
        )
    });
}

/// `allow-privilege-escalation`: `securityContext.allowPrivilegeEscalation`
/// must be explicitly false.
pub(crate) fn check_privilege_escalation(container: &Container, verdict: &mut Verdict) {
    let Ok(value) = container.flag("allowPrivilegeEscalation", verdict) else {
        return;
    };
    let label = container.at.label();
    let message = match value {
        Some(false) => return,
        Some(true) => format!("{label} allows privilege escalation"),
        None => format!("{label} does not set allowPrivilegeEscalation to false"),
    };
    let path = container.field_pointer("allowPrivilegeEscalation");
    let mut v = violation(ALLOW_PRIVILEGE_ESCALATION.id)
        .at(&path)
        .message(message)
        .found_opt(container.raw("allowPrivilegeEscalation"));
    if adds_sys_admin(container) {
        // The API server rejects allowPrivilegeEscalation: false next to
        // CAP_SYS_ADMIN, so no edit of ours alone would be accepted.
        v = v.hint(
            "Kubernetes refuses allowPrivilegeEscalation: false while the container adds the \
             SYS_ADMIN capability: remove SYS_ADMIN from securityContext.capabilities.add, \
             then set allowPrivilegeEscalation: false.",
        );
    } else {
        if container.raw("privileged").and_then(Value::as_bool) == Some(true) {
            // The API server also rejects it next to privileged: true.
            v = v
                .fix_set(container.field_pointer("privileged"), json!(false))
                .hint("A privileged container always allows privilege escalation, so the fix also turns privileged off.");
        }
        v = v.fix_set(&path, json!(false));
    }
    verdict.push(v);
}

/// Whether `securityContext.capabilities.add` lists SYS_ADMIN (with or
/// without the `CAP_` prefix). Read leniently: a malformed list adds nothing.
fn adds_sys_admin(container: &Container) -> bool {
    container
        .raw("capabilities")
        .and_then(|capabilities| capabilities.get("add"))
        .and_then(Value::as_array)
        .is_some_and(|added| {
            added
                .iter()
                .filter_map(Value::as_str)
                .any(|cap| cap == "SYS_ADMIN" || cap == "CAP_SYS_ADMIN")
        })
}
