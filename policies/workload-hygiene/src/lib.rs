//! # workload-hygiene: the everyday mistakes that make workloads flaky
//!
//! A Counsel policy meant for `warn` mode: it tells the developer, at
//! `kubectl apply`, what will make the workload hard to schedule, run or roll
//! back, without blocking anything. It checks the pod template of every
//! workload kind (and bare Pods):
//!
//! | rule | checks | fix |
//! | --- | --- | --- |
//! | `resource-requests` | init and regular containers request `cpu` and `memory` (a limit alone counts, as the API server copies it into the request; so does the pod-level `spec.resources`) | hint |
//! | `memory-limit` | init and regular containers set `limits.memory` (or the pod does); CPU limits are deliberately not required | hint |
//! | `image-tag` | the image has a tag other than `latest`, or a digest | hint |
//! | `image-digest` | a tag-pinned image also has a digest (severity low) | hint |
//! | `image-pull-policy` | `imagePullPolicy` is one of `Always`, `IfNotPresent`, `Never` (a miscased one is fixed), and not `IfNotPresent`/`Never` for a `:latest` or untagged image | `Always` for `IfNotPresent`; hint for `Never` |
//! | `liveness-probe`, `readiness-probe` | regular containers of long-running workloads (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, and Pods and PodTemplates with `restartPolicy: Always`, the default) have the probe; Jobs, CronJobs, init and ephemeral containers are not checked | hint |
//!
//! Ephemeral (debug) containers are temporary and cannot have resources or
//! probes, so no rule looks at them.
//!
//! ## Settings
//!
//! ```json
//! {"disabled": ["image-digest", "probes"]}
//! ```
//!
//! `disabled` lists rules to switch off, by rule id or by group: `resources`
//! (`resource-requests`, `memory-limit`), `images` (`image-tag`,
//! `image-digest`, `image-pull-policy`) and `probes` (`liveness-probe`,
//! `readiness-probe`). One list rather than a boolean per rule, so the
//! configuration names exactly what a team opted out of, and a typo is an
//! error naming the entry instead of a silently ignored key. Everything is
//! on by default.

mod image;
mod probes;
mod resources;
pub mod rules;

use counsel_policy::workload::{ContainerList, pod_specs};
use counsel_policy::{
    Findings, Metadata, Operation, Policy, Reads, Request, Rule, Verdict, workload,
};
use serde::Deserialize;

use crate::resources::Resources;

/// The policy's settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// Rule ids or group names (`resources`, `images`, `probes`) to switch off.
    pub disabled: Vec<String>,
}

/// The rules switched on by a [`Settings`].
#[derive(Debug, Clone)]
pub struct Enabled {
    off: Vec<&'static str>,
}

impl Enabled {
    /// Resolves `settings.disabled`; unknown names are ignored here (they are
    /// refused by `validate_settings` before any request arrives).
    pub fn from_settings(settings: &Settings) -> Enabled {
        let off = settings
            .disabled
            .iter()
            .filter_map(|name| rules::resolve(name))
            .flatten()
            .collect();
        Enabled { off }
    }

    /// Whether `rule` is on.
    pub fn on(&self, rule: &Rule) -> bool {
        !self.off.contains(&rule.id)
    }
}

/// The workload hygiene policy.
pub struct WorkloadHygiene;

impl Policy for WorkloadHygiene {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata {
            name: "workload-hygiene".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            description: "Resource requests and memory limits, pinned images, sane pull \
                          policies and probes on long-running workloads: the everyday mistakes \
                          that make workloads flaky. Meant for warn mode."
                .to_owned(),
            kinds: workload::kinds(),
            rules: rules::ALL.to_vec(),
        }
    }

    fn validate_settings(settings: &Settings) -> Result<(), String> {
        for (index, name) in settings.disabled.iter().enumerate() {
            if rules::resolve(name).is_none() {
                let rule_ids: Vec<&str> = rules::ALL.iter().map(|rule| rule.id).collect();
                let groups: Vec<&str> = rules::GROUPS.iter().map(|(group, _)| *group).collect();
                return Err(format!(
                    "setting `disabled[{index}]`: {name:?} is neither a rule nor a group of \
                     workload-hygiene; rules: {}; groups: {}",
                    rule_ids.join(", "),
                    groups.join(", ")
                ));
            }
        }
        Ok(())
    }

    fn reads() -> Reads {
        workload::reads(
            &["resources", "restartPolicy"],
            &[
                "image",
                "imagePullPolicy",
                "resources",
                "livenessProbe",
                "readinessProbe",
            ],
        )
    }

    fn validate(request: &Request, settings: &Settings) -> Verdict {
        let mut verdict = Verdict::default();
        if !evaluated(request) {
            return verdict;
        }
        let Some(object) = request.object() else {
            return verdict;
        };
        let enabled = Enabled::from_settings(settings);
        let kind = object.get("kind").and_then(|k| k.as_str()).unwrap_or("");
        let found = pod_specs(object);
        let mut out = Findings::default();
        out.extend(found.problems);
        for spec in &found.specs {
            out.extend(spec.container_problems());
            let pod = spec.node();
            let pod_resources = Resources::read(&pod, &mut out);
            let long_running = probes::long_running(kind, &pod);
            for c in spec.containers() {
                if c.list == ContainerList::Ephemeral {
                    continue;
                }
                resources::check(&c, &pod_resources, &enabled, &mut out);
                image::check(&c, &enabled, &mut out);
                if long_running {
                    probes::check(&c, &enabled, &mut out);
                }
            }
        }
        verdict.extend(out);
        verdict
    }
}

/// CREATE and UPDATE of the object itself; a Pod UPDATE only when its spec
/// changed, as far as this policy reads it ([`Policy::reads`]): little of a
/// pod spec can change, and repeating the same advice on every label change
/// is noise.
fn evaluated(request: &Request) -> bool {
    if request.sub_resource().is_some() {
        return false;
    }
    match request.operation() {
        Operation::Create => true,
        Operation::Update => {
            request.kind() != "Pod"
                || request.object().and_then(|o| o.get("spec"))
                    != request.old_object().and_then(|o| o.get("spec"))
        }
        Operation::Delete | Operation::Connect => false,
    }
}

counsel_policy::export_policy!(WorkloadHygiene);
