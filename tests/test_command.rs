//! `counsel test` as a policy author runs it: declarative suites of any
//! policy (CEL rules, a bundled policy, a component file), the exact text
//! of passing and failing cases, JSON and JUnit XML (parsed), exit codes,
//! and the errors of a broken suite (file, line, field).

use crate::support::cli::{counsel, files, text};
use serde_json::Value;

/// A rule and a suite whose cases each go wrong in one way.
const RULES: &str = "\
rules:
  - id: replicas
    title: At most 3 replicas
    kinds: [Deployment]
    validate: \"object.spec.replicas <= 3\"
    path: spec.replicas
    fixes:
      - set: spec.replicas
        value: \"3\"
";

const SUITE: &str = "\
policy:
  name: house-rules
  module: builtin:cel
  settingsFile: rules.yaml
cases:
  - name: two replicas pass
    object: &two
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec: {replicas: 2}
    expect:
      allowed: true
  - name: expects a violation that is not there
    object: *two
    expect:
      allowed: false
      findings:
        - rule: replicas
  - name: seven replicas are denied and fixed
    object:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec: {replicas: 7}
    fix: all
    expect:
      allowed: false
      findings:
        - {rule: replicas, field: spec.replicas, mode: enforce}
      fixed:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec: {replicas: 3}
  - name: expects nothing of an object that breaks the rule
    object:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec: {replicas: 9}
    expect:
      allowed: true
  - name: expects the wrong field and the wrong fix
    object:
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web, namespace: shop}
      spec: {replicas: 9}
    fix: all
    expect:
      allowed: false
      findings:
        - {rule: replicas, path: /spec/template}
      fixed:
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec: {replicas: 1}
";

#[test]
fn a_failing_case_says_exactly_what_differs() {
    let dir = files(&[("rules.yaml", RULES), ("house.test.yaml", SUITE)]);
    let output = counsel(dir.path(), &["test"], None);
    assert_eq!(output.status.code(), Some(1), "{}", text(&output.stderr));
    assert_eq!(
        text(&output.stdout),
        "\
house.test.yaml (house-rules)
  pass  two replicas pass
  FAIL  expects a violation that is not there (house.test.yaml:14)
        - expected denied, got allowed
        - expected finding not found: replicas
  pass  seven replicas are denied and fixed
  FAIL  expects nothing of an object that breaks the rule (house.test.yaml:36)
        - expected allowed, got denied
        - unexpected finding: replicas at spec.replicas (enforce): At most 3 replicas
  FAIL  expects the wrong field and the wrong fix (house.test.yaml:44)
        - expected finding not found: replicas at /spec/template
        - unexpected finding: replicas at spec.replicas (enforce): At most 3 replicas
        - the object after --fix differs (- expected, + got):
          @@ -6,6 +6,6 @@
               \"namespace\": \"shop\"
             },
             \"spec\": {
          -    \"replicas\": 1
          +    \"replicas\": 3
             }
           }

2 passed, 3 failed (5 cases in 1 suite)
"
    );
}

#[test]
fn json_and_junit_say_the_same() {
    let dir = files(&[("rules.yaml", RULES), ("house.test.yaml", SUITE)]);
    let output = counsel(dir.path(), &["test", "house.test.yaml", "-o", "json"], None);
    assert_eq!(output.status.code(), Some(1));
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        (json["passed"].clone(), json["failed"].clone()),
        (2.into(), 3.into())
    );
    let case = &json["suites"][0]["cases"][2];
    assert_eq!(case["name"], "seven replicas are denied and fixed");
    assert_eq!(case["passed"], true);
    assert_eq!(case["allowed"], false);
    assert_eq!(
        case["findings"],
        serde_json::json!([{"rule": "replicas", "mode": "enforce", "path": "/spec/replicas",
            "field": "spec.replicas", "message": "At most 3 replicas"}])
    );
    assert_eq!(case["fixed"]["spec"], serde_json::json!({"replicas": 3}));
    assert_eq!(
        json["suites"][0]["cases"][1]["mismatches"],
        serde_json::json!([
            "expected denied, got allowed",
            "expected finding not found: replicas"
        ])
    );

    let output = counsel(dir.path(), &["test", "-o", "junit"], None);
    assert_eq!(output.status.code(), Some(1));
    let xml = text(&output.stdout);
    let document = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    let root = document.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    assert_eq!(
        (root.attribute("tests"), root.attribute("failures")),
        (Some("5"), Some("3"))
    );
    let cases: Vec<(&str, Option<&str>)> = root
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|case| {
            let failure = case.children().find(|n| n.has_tag_name("failure"));
            (
                case.attribute("name").unwrap_or_default(),
                failure.and_then(|f| f.attribute("message")),
            )
        })
        .collect();
    assert_eq!(
        cases,
        [
            ("two replicas pass", None),
            (
                "expects a violation that is not there",
                Some("expected denied, got allowed")
            ),
            ("seven replicas are denied and fixed", None),
            (
                "expects nothing of an object that breaks the rule",
                Some("expected allowed, got denied")
            ),
            (
                "expects the wrong field and the wrong fix",
                Some("expected finding not found: replicas at /spec/template")
            ),
        ]
    );
}

/// A bundled policy, as a component file too, on an UPDATE with its old
/// object, in a namespace selected by its labels.
#[test]
fn bundled_policies_and_component_files_are_tested_alike() {
    let component = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("policies/dist/container-security.wasm")
        .display()
        .to_string();
    let suite = |module: &str| {
        format!(
            "\
policy:
  name: containers
  module: {module}
  match:
    namespaceSelector: {{matchLabels: {{env: prod}}}}
namespaces:
  shop: {{env: prod}}
  dev: {{env: dev}}
cases:
  - name: privileged, introduced by an update, is denied
    file: pod.yaml
    operation: UPDATE
    oldObject: {{apiVersion: v1, kind: Pod, metadata: {{name: web}}, spec: {{containers: [{{name: app, image: web:1, securityContext: {{allowPrivilegeEscalation: false, runAsNonRoot: true}}}}]}}}}
    namespace: shop
    expect:
      allowed: false
      findings:
        - {{rule: privileged, field: 'spec.containers[0].securityContext.privileged'}}
        - {{rule: allow-privilege-escalation, mode: enforce}}
      fixed: {{apiVersion: v1, kind: Pod, metadata: {{name: web}}, spec: {{containers: [{{name: app, image: web:1, securityContext: {{privileged: false, allowPrivilegeEscalation: false, runAsNonRoot: true}}}}]}}}}
  - name: the policy does not select dev
    file: pod.yaml
    namespace: dev
    expect:
      allowed: true
"
        )
    };
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers:\n    - name: app\n      image: web:1\n      securityContext: {privileged: true, runAsNonRoot: true}\n";
    let dir = files(&[
        ("pod.yaml", pod),
        (
            "suites/bundled.test.yaml",
            &suite("builtin:container-security").replace("file: pod", "file: ../pod"),
        ),
        (
            "suites/file.test.yml",
            &suite(&component).replace("file: pod", "file: ../pod"),
        ),
        ("suites/not-a-suite.yaml", "not: read"),
    ]);
    let output = counsel(dir.path(), &["test", "suites"], None);
    assert_eq!(
        text(&output.stdout),
        "\
suites/bundled.test.yaml (containers)
  pass  privileged, introduced by an update, is denied
  pass  the policy does not select dev
suites/file.test.yml (containers)
  pass  privileged, introduced by an update, is denied
  pass  the policy does not select dev

4 passed, 0 failed (4 cases in 2 suites)
"
    );
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_broken_suite_is_named_at_its_line_and_field() {
    let broken = |suite: &str| {
        let dir = files(&[("rules.yaml", RULES), ("s.test.yaml", suite)]);
        let output = counsel(dir.path(), &["test", "s.test.yaml"], None);
        assert_eq!(output.status.code(), Some(2), "{}", text(&output.stdout));
        text(&output.stdout)
            .lines()
            .find(|line| line.starts_with("error: "))
            .unwrap_or_default()
            .to_owned()
    };
    let head =
        "policy: {name: p, module: builtin:cel, settingsFile: rules.yaml}\ncases:\n  - name: one\n";
    assert_eq!(
        broken(&format!(
            "{head}    object: {{kind: Pod}}\n    expect: {{allowd: true}}\n"
        )),
        "error: s.test.yaml:5: cases[0].expect.allowd: unknown field `allowd`, expected one of `allowed`, `findings`, `fixed`, `fixedFile`"
    );
    assert_eq!(
        broken(&format!(
            "{head}    object: {{kind: Pod}}\n    expect: {{findings: []}}\n"
        )),
        "error: s.test.yaml:5: cases[0].expect: missing field `allowed`"
    );
    assert_eq!(
        broken(&format!(
            "{head}    file: nowhere.yaml\n    expect: {{allowed: true}}\n"
        )),
        "error: s.test.yaml:4: cases[0].file: nowhere.yaml: cannot read: No such file or directory (os error 2)"
    );
    assert_eq!(
        broken(&format!(
            "{head}    object: {{kind: Pod}}\n    operation: CREATE\n    oldObject: {{kind: Pod}}\n    expect: {{allowed: true}}\n"
        )),
        "error: s.test.yaml:5: cases[0]: an old object is for `operation: UPDATE`"
    );
    assert_eq!(
        broken("policy: {name: p, module: builtin:nope}\ncases: []\n"),
        "error: s.test.yaml:1: policy \"p\": module: there is no bundled policy \"nope\"; bundled are builtin:pod-security, builtin:workload-hygiene, builtin:container-security, builtin:cel"
    );
    assert_eq!(
        broken("config: counsel.yaml\npolicy: p\ncases: []\n"),
        "error: counsel.yaml: cannot read the configuration: No such file or directory (os error 2)"
    );
}
