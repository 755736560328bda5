//! hostNamespaces, hostPorts and hostProbesAndHostLifecycle.

use counsel_policy::{Findings, Node, violation};

use crate::pod::{Container, Pod};
use crate::rules::{HOST_NAMESPACES, HOST_PORTS, PROBE_HOST};

/// hostNamespaces: `hostNetwork`, `hostPID` and `hostIPC` are false or unset.
pub fn host_namespaces(pod: &Pod<'_>, out: &mut Findings) {
    for (field, what) in [
        ("hostNetwork", "the node's network"),
        ("hostPID", "the node's process list"),
        ("hostIPC", "the node's shared memory and IPC"),
    ] {
        let node = pod.spec.field(field);
        if node.bool(out) == Some(true) {
            out.push(
                violation(&HOST_NAMESPACES)
                    .at(&node)
                    .message(format!("pod must not set {field}=true (it shares {what})"))
                    .fix_to(false),
            );
        }
    }
}

/// hostPorts: every `ports[*].hostPort` is 0 or unset.
pub fn host_ports(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        for (index, port) in c.node.field("ports").items(out).iter().enumerate() {
            // Not an object: reported, and it opens no port.
            let field = port.as_object(out).field("hostPort");
            let Some(host_port) = field.int(out) else {
                continue;
            };
            if host_port == 0 {
                continue;
            }
            out.push(
                violation(&HOST_PORTS)
                    .at(&field)
                    .message(format!(
                        "{} must not open hostPort {host_port} (ports[{index}])",
                        c.label
                    ))
                    .fix_remove(&field)
                    .hint(
                        "Reach the container through a Service (type NodePort or LoadBalancer if \
                         it must be reachable from outside the cluster) instead of a port on the \
                         node.",
                    ),
            );
        }
    }
}

/// hostProbesAndHostLifecycle (v1.34): no probe or lifecycle hook sets a
/// non-empty `httpGet.host` or `tcpSocket.host`.
pub fn host_probes_and_lifecycle(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        for probe in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let Some(handler) = c.node.field(probe).object(out) {
                check_handler(c, &handler, probe, out);
            }
        }
        if let Some(lifecycle) = c.node.field("lifecycle").object(out) {
            for hook in ["postStart", "preStop"] {
                if let Some(handler) = lifecycle.field(hook).object(out) {
                    check_handler(c, &handler, &format!("lifecycle.{hook}"), out);
                }
            }
        }
    }
}

fn check_handler(c: &Container<'_>, handler: &Node<'_>, name: &str, out: &mut Findings) {
    for action in ["httpGet", "tcpSocket"] {
        if let Some(action_obj) = handler.field(action).object(out) {
            check_host(c, &action_obj, &format!("{name}.{action}"), out);
        }
    }
}

fn check_host(c: &Container<'_>, action: &Node<'_>, name: &str, out: &mut Findings) {
    let field = action.field("host");
    let Some(host) = field.str(out) else {
        return;
    };
    if host.is_empty() {
        return;
    }
    out.push(
        violation(&PROBE_HOST)
            .at(&field)
            .message(format!(
                "{} must not send its {name} to host {host:?}",
                c.label
            ))
            .fix_remove(&field)
            .hint(
                "Without `host` the kubelet checks the pod's own IP address. For a virtual host, \
                 set an HTTP `Host` header in httpGet.httpHeaders instead.",
            ),
    );
}
