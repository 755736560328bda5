//! The per-container rules: `privileged` and `allow-privilege-escalation`.

use counsel_policy::workload::PodSpecRef;
use counsel_policy::{Findings, Node, Value, violation};

use crate::{ALLOW_PRIVILEGE_ESCALATION, PRIVILEGED};

/// A container whose `securityContext` could be read.
pub(crate) struct Container<'a> {
    /// How messages name it (`container "app"`).
    pub(crate) label: String,
    /// Its `securityContext` (absent when missing).
    pub(crate) context: Node<'a>,
    /// Whether the pod is a Windows pod.
    windows: bool,
}

/// A boolean field; `Err` when it has another type (reported), so that no
/// rule guesses at it.
pub(crate) fn flag(field: &Node<'_>, out: &mut Findings) -> Result<Option<bool>, ()> {
    match field.bool(out) {
        None if field.is_set() => Err(()),
        value => Ok(value),
    }
}

/// Every container of `spec` whose `securityContext` is an object or
/// missing; the others are reported as `invalid-field` and left out.
pub(crate) fn read<'a>(spec: &PodSpecRef<'a>, out: &mut Findings) -> Vec<Container<'a>> {
    let windows = spec.os_name() == Some("windows");
    spec.containers()
        .filter_map(|at| {
            let context = at.node().field("securityContext");
            if context.is_set() && context.object(out).is_none() {
                return None;
            }
            Some(Container {
                label: at.label(),
                context,
                windows,
            })
        })
        .collect()
}

/// `privileged`: `securityContext.privileged` must not be true.
pub(crate) fn check_privileged(container: &Container, out: &mut Findings) {
    let field = container.context.field("privileged");
    if field.bool(out) != Some(true) {
        return;
    }
    let v = violation(&PRIVILEGED)
        .at(&field)
        .message(format!("{} runs privileged", container.label));
    out.push(if container.windows {
        // Kubernetes refuses the field in Windows pods whatever its value.
        v.fix_remove(&field)
    } else {
        v.fix_to(false).hint(
            "If the container needs one specific privilege, add just that capability under \
             securityContext.capabilities.add instead.",
        )
    });
}

/// `allow-privilege-escalation`: `securityContext.allowPrivilegeEscalation`
/// must be explicitly false.
pub(crate) fn check_privilege_escalation(container: &Container, out: &mut Findings) {
    let field = container.context.field("allowPrivilegeEscalation");
    let Ok(value) = flag(&field, out) else {
        return;
    };
    let label = &container.label;
    let message = match value {
        Some(false) => return,
        Some(true) => format!("{label} allows privilege escalation"),
        None => format!("{label} does not set allowPrivilegeEscalation to false"),
    };
    let mut v = violation(&ALLOW_PRIVILEGE_ESCALATION)
        .at(&field)
        .message(message);
    if adds_sys_admin(container) {
        // The API server rejects allowPrivilegeEscalation: false next to
        // CAP_SYS_ADMIN, so no edit of ours alone would be accepted.
        v = v.hint(
            "Kubernetes refuses allowPrivilegeEscalation: false while the container adds the \
             SYS_ADMIN capability: remove SYS_ADMIN from securityContext.capabilities.add, \
             then set allowPrivilegeEscalation: false.",
        );
    } else {
        let privileged = container.context.field("privileged");
        if privileged.value().and_then(Value::as_bool) == Some(true) {
            // The API server also rejects it next to privileged: true.
            v = v
                .fix_set(&privileged, false.into())
                .hint("A privileged container always allows privilege escalation, so the fix also turns privileged off.");
        }
        v = v.fix_to(false);
    }
    out.push(v);
}

/// Whether `securityContext.capabilities.add` lists SYS_ADMIN (with or
/// without the `CAP_` prefix). Read leniently: a malformed list adds nothing.
fn adds_sys_admin(container: &Container) -> bool {
    container
        .context
        .field("capabilities")
        .field("add")
        .value()
        .and_then(Value::as_array)
        .is_some_and(|added| {
            added
                .iter()
                .filter_map(Value::as_str)
                .any(|cap| cap == "SYS_ADMIN" || cap == "CAP_SYS_ADMIN")
        })
}
