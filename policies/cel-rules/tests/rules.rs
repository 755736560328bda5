//! CEL rules as ops write them: exact violations, fixes, load errors.

use cel_rules::Cel;
use counsel_policy::testing::{apply_fixes, request_from_object, request_from_yaml, yaml};
use counsel_policy::{Edit, Request, Verdict, guest, json};

/// Runs the policy on `request` with settings written in YAML, after
/// checking the settings as Counsel does at load.
fn run_request(settings: &str, request: &Request) -> Verdict {
    let settings = yaml(settings).to_string();
    if let Err(e) = guest::validate_settings::<Cel>(&settings) {
        panic!("settings refused: {e}");
    }
    guest::run::<Cel>(&request.raw().to_string(), &settings)
}

fn run(settings: &str, manifest: &str) -> Verdict {
    run_request(settings, &request_from_yaml(manifest))
}

fn settings_error(settings: &str) -> String {
    match guest::validate_settings::<Cel>(&yaml(settings).to_string()) {
        Ok(()) => panic!("settings accepted: {settings}"),
        Err(e) => e,
    }
}

const NO_LATEST: &str = r#"
rules:
  - id: no-latest-tag
    title: Images must be pinned to a version
    why: A `latest` image changes under you.
    forEach: containers
    validate: "!container.image.endsWith(':latest')"
    message: "'runs ' + container.image + ', which moves'"
    path: image
    fixes:
      - set: image
        value: "container.image.replace(':latest', ':' + params.pinned)"
    params: {pinned: "1.27"}
    hint: Pin the image to a release.
"#;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 7
  template:
    spec:
      initContainers:
        - {name: init, image: "busybox:latest"}
      containers:
        - {name: app, image: "nginx:latest"}
        - {name: side, image: "envoy:1.30"}
"#;

#[test]
fn a_for_each_rule_reports_every_container_of_every_kind_with_its_fix() {
    let verdict = run(NO_LATEST, DEPLOYMENT);
    let found: Vec<_> = verdict
        .violations
        .iter()
        .map(|v| {
            (
                v.rule.as_str(),
                v.path.as_str(),
                v.message.as_str(),
                v.found.clone(),
                v.fixes.clone(),
                v.hint.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            (
                "no-latest-tag",
                "/spec/template/spec/initContainers/0/image",
                r#"init container "init": runs busybox:latest, which moves"#,
                Some(json!("busybox:latest")),
                vec![Edit::Set {
                    path: "/spec/template/spec/initContainers/0/image".into(),
                    value: json!("busybox:1.27")
                }],
                Some("Pin the image to a release."),
            ),
            (
                "no-latest-tag",
                "/spec/template/spec/containers/0/image",
                r#"container "app": runs nginx:latest, which moves"#,
                Some(json!("nginx:latest")),
                vec![Edit::Set {
                    path: "/spec/template/spec/containers/0/image".into(),
                    value: json!("nginx:1.27")
                }],
                Some("Pin the image to a release."),
            ),
        ]
    );
    let fixed = apply_fixes(&yaml(DEPLOYMENT), &verdict);
    let settings = yaml(NO_LATEST).to_string();
    let again = guest::run::<Cel>(&request_from_object(&fixed).raw().to_string(), &settings);
    assert!(again.violations.is_empty(), "{again:#?}");
}

#[test]
fn the_same_rule_covers_pods_and_cronjobs() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, image: 'x:latest'}]\n";
    let cronjob = "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  schedule: '* * * * *'\n  jobTemplate:\n    spec:\n      template:\n        spec:\n          containers: [{name: a, image: 'x:latest'}]\n";
    assert_eq!(
        run(NO_LATEST, pod).violations[0].path,
        "/spec/containers/0/image"
    );
    assert_eq!(
        run(NO_LATEST, cronjob).violations[0].path,
        "/spec/jobTemplate/spec/template/spec/containers/0/image"
    );
}

#[test]
fn a_rule_about_the_object_sets_a_missing_field_from_params() {
    let settings = r#"
rules:
  - id: team-label
    title: Objects name their team
    kinds: [Deployment]
    validate: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    path: metadata.labels.team
    fixes:
      - set: metadata.labels.team
        value: params.defaultTeam
    params: {defaultTeam: platform}
"#;
    let verdict = run(settings, DEPLOYMENT);
    let v = &verdict.violations[0];
    assert_eq!(
        (v.path.as_str(), v.message.as_str(), v.found.clone()),
        ("/metadata/labels/team", "Objects name their team", None)
    );
    assert_eq!(
        v.fixes,
        [Edit::Set {
            path: "/metadata/labels/team".into(),
            value: json!("platform")
        }]
    );
    // Kinds narrow the rule.
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
    assert!(run(settings, pod).violations.is_empty());
}

#[test]
fn kubernetes_libraries_are_there() {
    let settings = r#"
rules:
  - id: memory-cap
    title: Containers ask for at most 1Gi
    forEach: containers
    validate: >-
      !has(container.resources) || !has(container.resources.limits) ||
      !('memory' in container.resources.limits) ||
      quantity(container.resources.limits.memory).isLessThan(quantity('1Gi')) ||
      quantity(container.resources.limits.memory).compareTo(quantity('1024Mi')) == 0
    message: "'asks for ' + container.resources.limits.memory"
  - id: name-format
    title: Names are lowercase words
    validate: "object.metadata.name.matches('^[a-z]+$') && object.metadata.name.find('[0-9]+') == ''"
  - id: ports-sorted
    title: Ports are listed in order
    forEach: containers
    validate: "!has(container.ports) || container.ports.map(p, p.containerPort).isSorted()"
  - id: team-label-value
    title: The team label is a valid label value
    validate: "!format.labelValue().validate(object.metadata.name + '!').hasValue()"
    message: "format.named('labelValue').value().validate(object.metadata.name + '!').value()[0]"
  - id: docs-https
    title: Docs links use https
    params: {key: example.com/docs}
    validate: >-
      !has(object.metadata.annotations) || !(params.key in object.metadata.annotations) ||
      (isURL(object.metadata.annotations[params.key]) &&
       url(object.metadata.annotations[params.key]).getScheme() == 'https')
    message: >-
      'links to ' + url(object.metadata.annotations[params.key]).getHostname() +
      ' on port ' + url(object.metadata.annotations[params.key]).getPort() +
      ' for ' + url(object.metadata.annotations[params.key]).getQuery()['page'][0]
"#;
    let manifest = r#"
apiVersion: v1
kind: Pod
metadata:
  name: web2
  annotations: {example.com/docs: "http://wiki.example.com:8080/web?page=runbook"}
spec:
  containers:
    - name: a
      image: x:1
      resources: {limits: {memory: 1.5Gi}}
      ports: [{containerPort: 90}, {containerPort: 80}]
    - name: b
      image: x:1
      resources: {limits: {memory: 1Gi}}
"#;
    let verdict = run(settings, manifest);
    let found: Vec<_> = verdict
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.message.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            ("memory-cap", r#"container "a": asks for 1.5Gi"#),
            ("name-format", "Names are lowercase words"),
            (
                "ports-sorted",
                r#"container "a": Ports are listed in order"#
            ),
            (
                "team-label-value",
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            ),
            (
                "docs-https",
                "links to wiki.example.com on port 8080 for runbook"
            ),
        ]
    );
}

#[test]
fn an_expression_that_fails_on_the_object_is_a_violation_that_says_why() {
    let settings = r#"
rules:
  - id: replicas
    title: At most 5 replicas
    validate: "object.spec.replicas <= 5"
"#;
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: []}\n";
    let verdict = run(settings, pod);
    assert_eq!(
        verdict.violations[0].message,
        "could not be evaluated: No such key: replicas"
    );
    assert!(
        verdict.violations[0]
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("has(...)")
    );
}

#[test]
fn load_errors_name_the_setting_the_rule_and_the_position() {
    let base = |validate: &str| {
        format!("rules:\n  - id: r\n    title: T\n  - id: bad\n    title: T\n    validate: {validate:?}\n")
            .replace("    title: T\n  - id: bad", "    title: T\n    validate: 'true'\n  - id: bad")
    };
    assert_eq!(
        settings_error(&base("object.metadata.name ==")),
        "setting `rules[1].validate`: rule \"bad\": column 24: Syntax error: mismatched input '<EOF>' expecting expression"
    );
    assert_eq!(
        settings_error(&base("objet.metadata.name == 'x'")),
        "setting `rules[1].validate`: rule \"bad\": column 1: undeclared reference to `objet` (declared here: object, oldObject, request, params)"
    );
    assert_eq!(
        settings_error(&base("size(object.metadata.name) > 'three'")),
        "setting `rules[1].validate`: rule \"bad\": column 28: `>` cannot be applied to int and string"
    );
    assert_eq!(
        settings_error(&base("'yes'")),
        "setting `rules[1].validate`: rule \"bad\": column 1: the expression is a string, but it must be a bool"
    );
}
