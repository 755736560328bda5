//! `builtin:cel` as ops use it: rules written in CEL in counsel.yaml, and a
//! Kubernetes ValidatingAdmissionPolicy pasted unmodified, checked with the
//! real `counsel check`; the exact text a developer reads, and the exact
//! error ops get for a broken rule (file, line, rule, position).

use crate::support::cli::{counsel, files, text};
use std::path::Path;

const RULES: &str = r##"policies:
  - name: house-rules
    module: builtin:cel
    contact: "#platform on Slack"
    settings:
      rules:
        - id: no-latest-tag
          title: Images are pinned to a version
          why: A `latest` image changes under you; a rollback then runs new code.
          docs: https://wiki.example.com/images
          severity: high
          forEach: containers
          validate: "!container.image.endsWith(':latest')"
          message: "'runs ' + container.image + ', which moves'"
          path: image
          fixes:
            - set: image
              value: "container.image.replace(':latest', ':1.27')"
        - id: team-label
          title: Workloads name their team
          kinds: [Deployment]
          validate: "has(object.metadata.labels) && 'team' in object.metadata.labels"
          path: metadata.labels
          hint: Add the label `team` with your team's name.
"##;

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 7
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: app
          image: nginx:latest
";

#[test]
fn a_cel_rule_is_explained_like_any_rule() {
    let dir = files(&[("counsel.yaml", RULES), ("deploy.yaml", DEPLOYMENT)]);
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "deploy.yaml"],
        None,
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout,
        "\
error[house-rules/no-latest-tag]: Deployment shop/web: container \"app\": runs nginx:latest, which moves
  --> deploy.yaml:14:11
   |
14 |           image: nginx:latest
   |           ^^^^^^^^^^^^^^^^^^^ found: \"nginx:latest\"
   |
   = field: spec.template.spec.containers[0].image (found: \"nginx:latest\")
   = why: A `latest` image changes under you; a rollback then runs new code.
   = fix: set spec.template.spec.containers[0].image: \"nginx:1.27\" (a suggestion, never made by the webhook: check that it suits the image, then make it with counsel check --fix=all)
   = docs: https://wiki.example.com/images
   = contact: #platform on Slack

error[house-rules/team-label]: Deployment shop/web: Workloads name their team
  --> deploy.yaml:3:1
  |
3 | metadata:
  | ^^^^^^^^^ labels is not set
  |
   = field: metadata.labels (found: (not set))
   = why: The people who run Counsel require it.
   = hint: Add the label `team` with your team's name.
   = contact: #platform on Slack

2 errors, 0 warnings in 1 object
"
    );
}

/// The first example of Kubernetes' ValidatingAdmissionPolicy page, with
/// params as a binding would give them, and Counsel's additions.
const VAP: &str = r##"policies:
  - name: limits
    module: builtin:cel
    settings:
      validatingAdmissionPolicies:
        - policy:
            apiVersion: admissionregistration.k8s.io/v1
            kind: ValidatingAdmissionPolicy
            metadata:
              name: "replicalimit-policy.example.com"
            spec:
              failurePolicy: Fail
              paramKind:
                apiVersion: rules.example.com/v1
                kind: ReplicaLimit
              matchConstraints:
                resourceRules:
                - apiGroups:   ["apps"]
                  apiVersions: ["v1"]
                  operations:  ["CREATE", "UPDATE"]
                  resources:   ["deployments"]
              validations:
                - expression: "object.spec.replicas <= params.maxReplicas"
                  messageExpression: "'object.spec.replicas must be no greater than ' + string(params.maxReplicas)"
                  reason: Invalid
          params: {maxReplicas: 5}
          validations:
            - why: Each replica reserves a node's worth of memory in the shop cluster.
              path: spec.replicas
              fixes: [{set: spec.replicas, value: params.maxReplicas}]
"##;

#[test]
fn a_validating_admission_policy_runs_unmodified_with_counsels_explanation() {
    let dir = files(&[("counsel.yaml", VAP), ("deploy.yaml", DEPLOYMENT)]);
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "deploy.yaml"],
        None,
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(
        stdout,
        "\
error[limits/replicalimit-policy.example.com]: Deployment shop/web: object.spec.replicas must be no greater than 5
  --> deploy.yaml:7:3
  |
7 |   replicas: 7
  |   ^^^^^^^^^^^ found: 7
  |
   = field: spec.replicas (found: 7)
   = why: Each replica reserves a node's worth of memory in the shop cluster.
   = fix: set spec.replicas: 5 (a suggestion, never made by the webhook: check that it suits the image, then make it with counsel check --fix=all)

1 error, 0 warnings in 1 object
"
    );
}

/// What `counsel check` says on stderr with `config` (which must not load).
fn load_error(config: &str) -> String {
    let dir = files(&[("counsel.yaml", config), ("deploy.yaml", DEPLOYMENT)]);
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "deploy.yaml"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    text(&output.stderr)
}

#[test]
fn a_broken_expression_stops_the_load_naming_file_line_rule_and_position() {
    let broken = RULES.replace(
        "validate: \"!container.image.endsWith(':latest')\"",
        "validate: \"!contaner.image.endsWith(':latest')\"",
    );
    assert_eq!(
        load_error(&broken),
        "error: counsel.yaml:13: policy \"house-rules\": settings: setting `rules[0].validate`: rule \"no-latest-tag\": column 2: undeclared reference to `contaner` (declared here: object, oldObject, request, params, container, podSpec)\n"
    );
    let syntax = VAP.replace("<= params.maxReplicas\"", "<= params.maxReplicas)\"");
    assert_eq!(
        load_error(&syntax),
        "error: counsel.yaml:23: policy \"limits\": settings: setting `validatingAdmissionPolicies[0].policy.spec.validations[0].expression`: ValidatingAdmissionPolicy \"replicalimit-policy.example.com\", validation 1: column 43: Syntax error: mismatched input ')' expecting <EOF>\n"
    );
    let severity = RULES.replace("severity: high", "severity: urgent");
    assert_eq!(
        load_error(&severity),
        "error: counsel.yaml:11: policy \"house-rules\": settings: setting `rules[0].severity`: unknown variant `urgent`, expected one of `low`, `medium`, `high`, `critical`\n"
    );
}

#[test]
fn the_readme_shows_what_the_example_gives() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = counsel(
        root,
        &[
            "check",
            "-c",
            "examples/counsel-cel.yaml",
            "-f",
            "examples/deployment-privileged.yaml",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let shown = format!(
        "$ counsel check -c examples/counsel-cel.yaml -f examples/deployment-privileged.yaml\n{}```",
        text(&output.stdout)
    );
    let readme = std::fs::read_to_string(root.join("README.md")).expect("README.md");
    assert!(readme.contains(&shown), "README.md should show:\n{shown}");
}

#[test]
fn rules_can_live_in_a_file_of_their_own() {
    let config = "policies:\n  - name: house-rules\n    module: builtin:cel\n    settingsFile: rules/house.yaml\n";
    let rules = "# Our rules\nrules:\n  - id: replicas\n    title: At most 5 replicas\n    kinds: [Deployment]\n    validate: \"object.spec.replicas <= 5\"\n    path: spec.replicas\n";
    let dir = files(&[("counsel.yaml", config), ("deploy.yaml", DEPLOYMENT)]);
    std::fs::create_dir(dir.path().join("rules")).expect("mkdir");
    std::fs::write(dir.path().join("rules/house.yaml"), rules).expect("write");
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "deploy.yaml"],
        None,
    );
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.starts_with("error[house-rules/replicas]: Deployment shop/web: At most 5 replicas\n  --> deploy.yaml:7:3\n"),
        "{stdout}"
    );
    std::fs::write(
        dir.path().join("rules/house.yaml"),
        rules.replace(
            "object.spec.replicas <= 5",
            "size(object.metadata.name) <= 'five'",
        ),
    )
    .expect("write");
    let output = counsel(
        dir.path(),
        &["check", "-c", "counsel.yaml", "-f", "deploy.yaml"],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert_eq!(
        text(&output.stderr),
        "error: rules/house.yaml:6: policy \"house-rules\": settings: setting `rules[0].validate`: rule \"replicas\": column 28: `<=` cannot be applied to int and string\n"
    );
}
