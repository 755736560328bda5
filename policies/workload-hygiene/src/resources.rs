//! `resource-requests` and `memory-limit`.

use counsel_policy::workload::ContainerRef;
use counsel_policy::{Findings, Node, violation};

use crate::Enabled;
use crate::rules::{MEMORY_LIMIT, RESOURCE_REQUESTS};

/// The `requests` and `limits` of one `resources` object (absent when
/// missing or, reported, not objects).
#[derive(Debug, Clone)]
pub struct Resources<'a> {
    requests: Node<'a>,
    limits: Node<'a>,
}

impl<'a> Resources<'a> {
    /// Reads `owner.resources`; wrongly typed parts are reported and ignored.
    pub fn read(owner: &Node<'a>, out: &mut Findings) -> Resources<'a> {
        let resources = owner.field("resources").as_object(out);
        Resources {
            requests: resources.field("requests").as_object(out),
            limits: resources.field("limits").as_object(out),
        }
    }

    fn limits(&self, resource: &str) -> bool {
        self.limits.has(resource)
    }

    /// Whether `resource` is requested. A limit alone counts: the API server
    /// copies it into the missing request.
    fn requested(&self, resource: &str) -> bool {
        self.requests.has(resource) || self.limits(resource)
    }
}

/// Checks one container's requests and memory limit; `pod` is the pod-level
/// `spec.resources`, which covers every container.
pub fn check(c: &ContainerRef<'_>, pod: &Resources<'_>, enabled: &Enabled, out: &mut Findings) {
    let own = Resources::read(&c.node(), out);
    let who = c.label();
    if enabled.on(&RESOURCE_REQUESTS) {
        for (resource, example) in [("cpu", "100m"), ("memory", "128Mi")] {
            if own.requested(resource) || pod.requested(resource) {
                continue;
            }
            out.push(
                violation(&RESOURCE_REQUESTS)
                    .at(&own.requests.field(resource))
                    .message(format!("{who} requests no {resource}"))
                    .hint(format!(
                        "Set resources.requests.{resource} to what the container uses under \
                         normal load (for example {example}); `kubectl top pod` shows what a \
                         running instance uses."
                    )),
            );
        }
    }
    if enabled.on(&MEMORY_LIMIT) && !own.limits("memory") && !pod.limits("memory") {
        out.push(
            violation(&MEMORY_LIMIT)
                .at(&own.limits.field("memory"))
                .message(format!("{who} has no memory limit"))
                .hint(
                    "Set resources.limits.memory somewhat above the peak the container reaches \
                     (often equal to the memory request); above it the container is restarted \
                     instead of starving its neighbours.",
                ),
        );
    }
}
