//! hostNamespaces, hostPorts and hostProbesAndHostLifecycle.

use counsel_policy::{Value, json, violation};

use crate::fields::{Findings, Obj};
use crate::pod::{Container, Pod};
use crate::rules::{HOST_NAMESPACES, HOST_PORTS, PROBE_HOST};

/// hostNamespaces: `hostNetwork`, `hostPID` and `hostIPC` are false or unset.
pub fn host_namespaces(pod: &Pod<'_>, out: &mut Findings) {
    for (field, what) in [
        ("hostNetwork", "the node's network"),
        ("hostPID", "the node's process list"),
        ("hostIPC", "the node's shared memory and IPC"),
    ] {
        if pod.spec.bool(field, out) == Some(true) {
            let ptr = pod.spec.at(field);
            out.push(
                violation(HOST_NAMESPACES)
                    .at(ptr.as_str())
                    .found(&Value::Bool(true))
                    .message(format!("pod must not set {field}=true (it shares {what})"))
                    .fix_set(ptr.as_str(), json!(false)),
            );
        }
    }
}

/// hostPorts: every `ports[*].hostPort` is 0 or unset.
pub fn host_ports(pod: &Pod<'_>, out: &mut Findings) {
    for c in &pod.containers {
        for (index, port) in c.obj.objects("ports", out) {
            let Some(host_port) = port.int("hostPort", out) else {
                continue;
            };
            if host_port == 0 {
                continue;
            }
            let ptr = port.at("hostPort");
            out.push(
                violation(HOST_PORTS)
                    .at(ptr.as_str())
                    .found_opt(port.value("hostPort"))
                    .message(format!(
                        "{} must not open hostPort {host_port} (ports[{index}])",
                        c.describe()
                    ))
                    .fix_remove(ptr.as_str())
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
            if let Some(handler) = c.obj.object(probe, out) {
                check_handler(c, &handler, probe, out);
            }
        }
        if let Some(lifecycle) = c.obj.object("lifecycle", out) {
            for hook in ["postStart", "preStop"] {
                if let Some(handler) = lifecycle.object(hook, out) {
                    check_handler(c, &handler, &format!("lifecycle.{hook}"), out);
                }
            }
        }
    }
}

fn check_handler(c: &Container<'_>, handler: &Obj<'_>, name: &str, out: &mut Findings) {
    for action in ["httpGet", "tcpSocket"] {
        if let Some(action_obj) = handler.object(action, out) {
            check_host(c, &action_obj, &format!("{name}.{action}"), out);
        }
    }
}

fn check_host(c: &Container<'_>, action: &Obj<'_>, name: &str, out: &mut Findings) {
    let Some(host) = action.str("host", out) else {
        return;
    };
    if host.is_empty() {
        return;
    }
    let ptr = action.at("host");
    out.push(
        violation(PROBE_HOST)
            .at(ptr.as_str())
            .found_opt(action.value("host"))
            .message(format!(
                "{} must not send its {name} to host {host:?}",
                c.describe()
            ))
            .fix_remove(ptr.as_str())
            .hint(
                "Without `host` the kubelet checks the pod's own IP address. For a virtual host, \
                 set an HTTP `Host` header in httpGet.httpHeaders instead.",
            ),
    );
}
