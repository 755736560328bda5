//! capabilities_baseline and capabilities_restricted, both reported as the
//! `capabilities` rule.

use counsel_policy::{Findings, Node, Value, Violation, json, violation};

use super::Ctx;
use crate::pod::{Container, Pod};
use crate::rules::{BASELINE_DOCS, CAPABILITIES, RESTRICTED_DOCS};
use crate::settings::Level;

/// Capabilities a baseline container may add (exact, case-sensitive).
const BASELINE_ADDS: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

/// The one capability a restricted container may add.
const RESTRICTED_ADD: &str = "NET_BIND_SERVICE";

/// capabilities_baseline: every `capabilities.add` entry is one of the
/// container runtime's default capabilities.
pub fn baseline(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        let Some(caps) = capabilities(c, out) else {
            continue;
        };
        forbidden_adds(
            c,
            &caps,
            |cap| BASELINE_ADDS.contains(&cap),
            Level::Baseline,
            out,
        );
    }
}

/// capabilities_restricted (v1.22; Windows pods exempt from v1.25): every
/// container drops `ALL` and adds nothing but `NET_BIND_SERVICE`.
pub fn restricted(pod: &Pod<'_>, ctx: Ctx, out: &mut Findings) {
    if pod.windows && ctx.minor >= 25 {
        return;
    }
    for c in &pod.containers {
        let Some(caps) = capabilities(c, out) else {
            let drop = c.security_context.field("capabilities").field("drop");
            out.push(missing_drop_all(c, &drop));
            continue;
        };
        let drop = caps.field("drop");
        if !drop.strings(out).iter().any(|(_, cap)| *cap == "ALL") {
            out.push(missing_drop_all(c, &drop));
        }
        forbidden_adds(
            c,
            &caps,
            |cap| cap == RESTRICTED_ADD,
            Level::Restricted,
            out,
        );
    }
}

/// The container's `securityContext.capabilities`, when set.
fn capabilities<'a>(c: &Container<'a>, out: &mut Findings) -> Option<Node<'a>> {
    c.security_context.field("capabilities").object(out)
}

fn missing_drop_all(c: &Container<'_>, drop: &Node<'_>) -> Violation {
    violation(&CAPABILITIES)
        .at(drop)
        .message(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            c.label
        ))
        .fix_to(json!(["ALL"]))
        .docs(RESTRICTED_DOCS)
}

/// One violation per `add` entry that `allowed` rejects. Every one carries
/// the same fix, the list of allowed entries (or no list), so applying any
/// subset of them in any order gives the same result.
fn forbidden_adds(
    c: &Container<'_>,
    caps: &Node<'_>,
    allowed: impl Fn(&str) -> bool,
    level: Level,
    out: &mut Findings,
) {
    let list = caps.field("add");
    let adds = list.strings(out);
    let kept: Vec<Value> = adds
        .iter()
        .filter(|(_, cap)| allowed(cap))
        .map(|(_, cap)| Value::from(*cap))
        .collect();
    for (entry, cap) in adds.iter().filter(|(_, cap)| !allowed(cap)) {
        let v = violation(&CAPABILITIES).at(entry).message(format!(
            "{} must not add capability {cap:?} at {level}",
            c.label
        ));
        let v = if kept.is_empty() {
            v.fix_remove(&list)
        } else {
            v.fix_set(&list, Value::Array(kept.clone()))
        };
        let docs = match level {
            Level::Baseline => BASELINE_DOCS,
            Level::Restricted => RESTRICTED_DOCS,
        };
        out.push(v.docs(docs).hint(if level == Level::Baseline {
            format!(
                "At baseline a container may add only the container runtime's default \
                 capabilities ({}). If the program really needs {cap}, that part belongs in a \
                 component ops run under an exemption, not in this workload.",
                BASELINE_ADDS.join(", ")
            )
        } else {
            format!(
                "A restricted container may add only NET_BIND_SERVICE (to listen on ports below \
                 1024). Make the program work without {cap}, or ask ops to run this workload at \
                 baseline."
            )
        }));
    }
}
