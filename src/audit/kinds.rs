//! Which resources the audit watches: the kinds the policies match,
//! resolved to the API server's resources by discovery.

use std::collections::BTreeSet;

use kube::api::ApiResource;
use kube::discovery::{Discovery, Scope, verbs};

use crate::review::MatchedKinds;

/// What the audit watches when some policy matches every kind (no `kinds`,
/// or `*`): listing every resource of the cluster would cost far more than
/// such a policy is usually written for, so the workload kinds (what
/// carries a pod spec) are watched, with the kinds other policies name.
pub const WORKLOAD_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
];

/// Groups looked in first when a kind name is served by several groups
/// (`Event`: core and `events.k8s.io`): the core group, then the workload
/// groups; the rest in alphabetical order, `extensions` (which only repeats
/// other groups' kinds, deprecated) last.
const PREFERRED_GROUPS: &[&str] = &["", "apps", "batch"];

/// The kind names to watch for `kinds`.
pub fn to_watch(kinds: &MatchedKinds) -> BTreeSet<String> {
    let mut names = kinds.named.clone();
    if kinds.every {
        names.extend(WORKLOAD_KINDS.iter().map(|kind| (*kind).to_owned()));
    }
    names
}

/// Kinds resolved to resources.
#[derive(Debug, Default)]
pub struct Resolved {
    /// A resource for each kind the API server serves with the verbs
    /// asked for, at the most stable version that serves it, in the first
    /// group (see [`PREFERRED_GROUPS`]) that does.
    pub resources: Vec<Served>,
    /// Kinds it does not serve so (`EphemeralContainers`, a subresource's
    /// kind; a CRD not installed).
    pub unserved: Vec<String>,
}

/// A resource that serves a kind.
#[derive(Debug, Clone)]
pub struct Served {
    /// The resource, at its version.
    pub resource: ApiResource,
    /// Whether its objects live in namespaces.
    pub namespaced: bool,
}

/// Resolves `kinds` with the API server's discovery, to resources that can
/// be listed and watched (what the background audit needs).
pub async fn resolve(client: &kube::Client, kinds: &BTreeSet<String>) -> kube::Result<Resolved> {
    let discovery = Discovery::new(client.clone()).run().await?;
    Ok(resolve_in(&discovery, kinds, &[verbs::LIST, verbs::WATCH]))
}

/// Resolves `kinds` in what `discovery` found, to resources that support
/// every one of `verbs`: the one resolution of kind names the background
/// audit and `counsel audit` share.
pub fn resolve_in(discovery: &Discovery, kinds: &BTreeSet<String>, verbs: &[&str]) -> Resolved {
    let mut groups: Vec<_> = discovery.groups_alphabetical();
    groups.sort_by_key(|group| {
        let name = group.name();
        let preferred = PREFERRED_GROUPS.iter().position(|p| *p == name);
        (
            name == "extensions",
            preferred.unwrap_or(PREFERRED_GROUPS.len()),
        )
    });
    let mut resolved = Resolved::default();
    for kind in kinds {
        let found = groups.iter().find_map(|group| {
            // The most stable version that serves the kind: CronJob is
            // batch/v1beta1 only before Kubernetes 1.21, whose preferred
            // batch version is v1.
            let (resource, capabilities) = (group.resources_by_stability().into_iter())
                .find(|(resource, _)| resource.kind == *kind)?;
            verbs
                .iter()
                .all(|verb| capabilities.supports_operation(verb))
                .then(|| Served {
                    resource,
                    namespaced: capabilities.scope == Scope::Namespaced,
                })
        });
        match found {
            Some(served) => resolved.resources.push(served),
            None => resolved.unserved.push(kind.clone()),
        }
    }
    resolved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_means_the_workload_kinds_and_the_named_ones() {
        let named = |every| MatchedKinds {
            named: ["ConfigMap".to_owned()].into(),
            every,
        };
        assert_eq!(to_watch(&named(false)), ["ConfigMap".to_owned()].into());
        let every = to_watch(&named(true));
        assert_eq!(every.len(), WORKLOAD_KINDS.len() + 1);
        assert!(every.contains("ConfigMap") && every.contains("CronJob"));
    }
}
