//! Counsel policy `{{name}}`: objects carry the label that names their
//! team, so that whoever reads a report knows whom to ask.
//!
//! Native unit tests: `cargo test` (below); the component:
//! `policies/build.sh {{name}}` writes `policies/dist/{{name}}.wasm`, which
//! `counsel test` runs against the suite beside this crate.

use counsel_policy::{
    Findings, Metadata, Node, Policy, Request, Rule, Severity, Verdict, export_policy, violation,
};
use serde::Deserialize;

/// The rule, declared once: the catalog entry ops can reword in counsel.yaml.
pub const TEAM_LABEL: Rule = Rule::new(
    "team-label",
    "Objects carry a team label",
    "When something breaks at night, the label says whom to wake; an object without \
     one belongs to nobody.",
)
.severity(Severity::Medium);

/// Settings ops may give in counsel.yaml.
#[derive(Debug, Deserialize)]
#[serde(default, rename_all = "camelCase", deny_unknown_fields)]
pub struct Settings {
    /// The label that names the team.
    pub label: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            label: "team".into(),
        }
    }
}

/// The policy.
pub struct TeamLabel;

impl Policy for TeamLabel {
    type Settings = Settings;

    fn metadata() -> Metadata {
        Metadata {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Objects carry a team label.".into(),
            kinds: vec!["Deployment".into(), "StatefulSet".into(), "DaemonSet".into()],
            rules: vec![TEAM_LABEL],
        }
    }

    fn validate_settings(settings: &Settings) -> Result<(), String> {
        if settings.label.is_empty() {
            return Err("setting `label` is empty; give the label that names the team".into());
        }
        Ok(())
    }

    fn validate(request: &Request, settings: &Settings) -> Verdict {
        let Some(object) = request.object() else {
            return Verdict::default(); // DELETE: nothing to check
        };
        // Every violation goes to `out`, and so does every field of the
        // wrong type a read meets (as `invalid-field`).
        let mut out = Findings::default();
        let object = Node::root(object);
        let team = object.labels(&mut out).value(&settings.label);
        if team.is_none_or(str::is_empty) {
            let labels = object.field("metadata").field("labels");
            out.push(
                violation(&TEAM_LABEL)
                    .at(&labels) // the labels found, or none
                    .message(format!("has no label {:?}", settings.label))
                    .hint(format!("Add the label {}: <your team>.", settings.label)),
            );
        }
        out.into()
    }
}

export_policy!(TeamLabel);

#[cfg(test)]
mod tests {
    use super::*;
    use counsel_policy::testing::{check, rule_ids};

    const LABELLED: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, labels: {team: payments}}
spec: {template: {spec: {containers: [{name: app, image: web:1.4}]}}}
";

    #[test]
    fn a_labelled_object_passes() {
        assert!(check::<TeamLabel>(LABELLED, "{}").violations.is_empty());
    }

    #[test]
    fn an_object_without_the_label_is_denied() {
        let verdict = check::<TeamLabel>(&LABELLED.replace("team: payments", "app: web"), "{}");
        assert_eq!(rule_ids(&verdict), ["team-label"]);
        assert_eq!(verdict.violations[0].path, "/metadata/labels");
    }

    #[test]
    fn the_label_is_a_setting() {
        let verdict = check::<TeamLabel>(LABELLED, r#"{"label": "owner"}"#);
        assert_eq!(rule_ids(&verdict), ["team-label"]);
    }
}
