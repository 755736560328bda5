//! `resource-requests` and `memory-limit`.

use counsel_policy::field::{self, Object};
use counsel_policy::workload::ContainerRef;
use counsel_policy::{Verdict, violation};

use crate::Enabled;
use crate::rules::{MEMORY_LIMIT, RESOURCE_REQUESTS};

/// The `requests` and `limits` of one `resources` object.
#[derive(Debug, Default, Clone, Copy)]
pub struct Resources<'a> {
    requests: Option<&'a Object>,
    limits: Option<&'a Object>,
}

impl<'a> Resources<'a> {
    /// Reads `owner.resources`; wrongly typed parts are reported and ignored.
    pub fn read(owner: &'a Object, owner_ptr: &str, verdict: &mut Verdict) -> Resources<'a> {
        let Some(resources) = read(field::object(owner, "resources", owner_ptr), verdict) else {
            return Resources::default();
        };
        let ptr = counsel_policy::pointer::push(owner_ptr, "resources");
        Resources {
            requests: read(field::object(resources, "requests", &ptr), verdict),
            limits: read(field::object(resources, "limits", &ptr), verdict),
        }
    }

    fn requests(&self, resource: &str) -> bool {
        has(self.requests, resource)
    }

    fn limits(&self, resource: &str) -> bool {
        has(self.limits, resource)
    }

    /// Whether `resource` is requested. A limit alone counts: the API server
    /// copies it into the missing request.
    fn requested(&self, resource: &str) -> bool {
        self.requests(resource) || self.limits(resource)
    }
}

fn has(list: Option<&Object>, resource: &str) -> bool {
    list.is_some_and(|list| field::get(list, resource).is_some())
}

fn read<T>(
    result: Result<Option<T>, counsel_policy::Violation>,
    verdict: &mut Verdict,
) -> Option<T> {
    result.unwrap_or_else(|problem| {
        verdict.push(problem);
        None
    })
}

/// Checks one container's requests and memory limit; `pod` is the pod-level
/// `spec.resources`, which covers every container.
pub fn check(c: &ContainerRef<'_>, pod: &Resources<'_>, enabled: &Enabled, verdict: &mut Verdict) {
    let own = Resources::read(c.container, &c.pointer, verdict);
    let who = c.label();
    if enabled.on(&RESOURCE_REQUESTS) {
        for (resource, example) in [("cpu", "100m"), ("memory", "128Mi")] {
            if own.requested(resource) || pod.requested(resource) {
                continue;
            }
            verdict.push(
                violation(RESOURCE_REQUESTS.id)
                    .at(c.pointer_to(&["resources", "requests", resource]))
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
        verdict.push(
            violation(MEMORY_LIMIT.id)
                .at(c.pointer_to(&["resources", "limits", "memory"]))
                .message(format!("{who} has no memory limit"))
                .hint(
                    "Set resources.limits.memory somewhat above the peak the container reaches \
                     (often equal to the memory request); above it the container is restarted \
                     instead of starving its neighbours.",
                ),
        );
    }
}
