//! The rule catalog and the groups `disabled` accepts.

use counsel_policy::{FixSafety, Rule, Severity};

const RESOURCES_DOCS: &str =
    "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/";
const PROBES_DOCS: &str =
    "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/";

/// Every container sets CPU and memory requests.
pub const RESOURCE_REQUESTS: Rule = Rule::new(
    "resource-requests",
    "Containers must request the CPU and memory they need",
    "The scheduler places pods by their requests. A container without them can land on a node \
     that has no room for it, gets whatever is left over, and is the first to be evicted when \
     the node runs short, so the service fails in ways that look random.",
)
.docs(RESOURCES_DOCS)
.severity(Severity::Medium);

/// Every container sets a memory limit.
pub const MEMORY_LIMIT: Rule = Rule::new(
    "memory-limit",
    "Containers must set a memory limit",
    "Without a memory limit one leaking container can take all of a node's memory, and the \
     kernel then kills processes of other pods too. With a limit only the leaking container is \
     restarted. (CPU limits are not required: exceeding CPU only slows a container down, and \
     limits often throttle it needlessly.)",
)
.docs(RESOURCES_DOCS)
.severity(Severity::Medium);

/// Images name a version, not `latest` or nothing.
pub const IMAGE_TAG: Rule = Rule::new(
    "image-tag",
    "Images must be pinned to a version, not :latest or no tag",
    "`latest` (which is also what no tag means) names whatever was pushed last: two nodes can \
     run different code under the same manifest, a rollback does not roll anything back, and \
     nobody can tell which version is running.",
)
.docs("https://kubernetes.io/docs/concepts/containers/images/#image-names")
.severity(Severity::Medium);

/// Images are pinned by digest.
pub const IMAGE_DIGEST: Rule = Rule::new(
    "image-digest",
    "Images should be pinned by digest",
    "A tag can be moved to other content by anyone who can push to the repository, by mistake \
     or in an attack; a digest cannot. Pinning the digest guarantees every node runs exactly \
     the bytes that were tested.",
)
.docs("https://kubernetes.io/docs/concepts/containers/images/#image-names")
.severity(Severity::Low);

/// `imagePullPolicy` fits the image reference.
pub const IMAGE_PULL_POLICY: Rule = Rule::new(
    "image-pull-policy",
    "imagePullPolicy must be valid and fit the image's tag",
    "With IfNotPresent or Never a node reuses whatever image it already has under that name. \
     For a mutable tag like latest, nodes keep running old and differing code and a new push \
     never arrives; a misspelt policy is refused by the API server.",
)
.docs("https://kubernetes.io/docs/concepts/containers/images/#image-pull-policy")
.severity(Severity::Medium)
// Safe to apply unattended: the fixes spell a misspelt policy as Kubernetes
// does, or pull a mutable tag on every start; the pod runs the same image.
// (The other rules have no machine fix: requests, limits, versions and
// probes are the developer's to choose.)
.fix_safety(FixSafety::Safe);

/// Long-running containers have a liveness probe.
pub const LIVENESS_PROBE: Rule = Rule::new(
    "liveness-probe",
    "Long-running containers must have a liveness probe",
    "A container that hangs (a deadlock, a stuck event loop) keeps running and keeps failing \
     requests until someone notices. The kubelet restarts it on its own only when a liveness \
     probe tells it the container is stuck.",
)
.docs(PROBES_DOCS)
.severity(Severity::Low);

/// Long-running containers have a readiness probe.
pub const READINESS_PROBE: Rule = Rule::new(
    "readiness-probe",
    "Long-running containers must have a readiness probe",
    "Without a readiness probe Kubernetes sends traffic to a container as soon as it has \
     started, before it can serve, and keeps sending it while it is overloaded or has lost its \
     database: users see errors during every rollout.",
)
.docs(PROBES_DOCS)
.severity(Severity::Medium);

/// Every rule, in the order violations are reported for a container.
pub const ALL: [Rule; 7] = [
    RESOURCE_REQUESTS,
    MEMORY_LIMIT,
    IMAGE_TAG,
    IMAGE_DIGEST,
    IMAGE_PULL_POLICY,
    LIVENESS_PROBE,
    READINESS_PROBE,
];

/// Names for several rules at once in the `disabled` setting.
pub const GROUPS: [(&str, &[&str]); 3] = [
    ("resources", &[RESOURCE_REQUESTS.id, MEMORY_LIMIT.id]),
    (
        "images",
        &[IMAGE_TAG.id, IMAGE_DIGEST.id, IMAGE_PULL_POLICY.id],
    ),
    ("probes", &[LIVENESS_PROBE.id, READINESS_PROBE.id]),
];

/// The rule ids `name` stands for: itself if it is a rule, its members if
/// it is a group, `None` otherwise.
pub fn resolve(name: &str) -> Option<Vec<&'static str>> {
    if let Some(rule) = ALL.iter().find(|rule| rule.id == name) {
        return Some(vec![rule.id]);
    }
    GROUPS
        .iter()
        .find(|(group, _)| *group == name)
        .map(|(_, ids)| ids.to_vec())
}
