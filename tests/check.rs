//! `counsel check` as a developer runs it: the real binary, the bundled
//! policies, files on disk; asserting the text, the JSON and the exit code.

use std::process::Output;

use serde_json::{Value, json};

use crate::support::cli::{counsel, files};

const PRIVILEGED: &str = include_str!("../examples/deployment-privileged.yaml");

/// A Deployment that meets the restricted Pod Security Standard and the
/// hygiene rules.
const CLEAN: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
        - name: api
          image: registry.example.com/api:1.4.2@sha256:0f5e2c3a4b6d8e9f00112233445566778899aabbccddeeff0011223344556677
          resources:
            requests: {cpu: 100m, memory: 128Mi}
            limits: {memory: 256Mi}
          livenessProbe: {httpGet: {path: /healthz, port: 8080}}
          readinessProbe: {httpGet: {path: /ready, port: 8080}}
          securityContext:
            allowPrivilegeEscalation: false
            capabilities: {drop: [ALL]}
";

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("utf-8")
}

#[test]
fn a_privileged_deployment_is_shown_at_its_line_with_why_and_fix() {
    let dir = files(&[("deploy.yaml", PRIVILEGED)]);
    let output = counsel(dir.path(), &["check", "-f", "deploy.yaml"], None);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    let expected = "\
error[pod-security/privileged]: Deployment shop/web: container \"app\" runs privileged
  --> deploy.yaml:22:13
   |
22 |             privileged: true
   |             ^^^^^^^^^^^^^^^^ found: true
   |
   = field: spec.template.spec.containers[0].securityContext.privileged (found: true)
   = why: A privileged container can do anything root on the node can: it sees every device, can mount the node's disks and load kernel modules. Whoever gets code running in it (through a bug in your app or a poisoned dependency) owns the node and every pod on it.
   = fix: set spec.template.spec.containers[0].securityContext.privileged: false
";
    assert!(text.starts_with(expected), "{text}");
    // A missing field points at its nearest parent that exists.
    assert!(
        text.contains(
            "  --> deploy.yaml:21:11\n   |\n21 |           securityContext:\n   |           ^^^^^^^^^^^^^^^^ allowPrivilegeEscalation is not set\n"
        ),
        "{text}"
    );
    assert!(text.contains("warning[workload-hygiene/liveness-probe]: Deployment shop/web: container \"app\" has no liveness probe\n"), "{text}");
    assert!(
        text.ends_with("5 errors, 6 warnings in 2 objects\n"),
        "{text}"
    );
}

#[test]
fn clean_input_passes() {
    let service =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n";
    let dir = files(&[
        ("app/deploy.yaml", CLEAN),
        ("app/nested/service.yml", service),
        ("app/notes.txt", "not yaml: ["),
    ]);
    let output = counsel(dir.path(), &["check", "-f", "app"], None);
    assert_eq!(stdout(&output), "0 errors, 0 warnings in 2 objects\n");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn broken_yaml_names_file_line_and_column() {
    let dir = files(&[(
        "bad.yaml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [web\n",
    )]);
    let output = counsel(dir.path(), &["check", "-f", "bad.yaml"], None);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    let first = text.lines().nth(1).expect("location line");
    assert!(first.starts_with("  --> bad.yaml:"), "{text}");
    let location: Vec<&str> = first.trim_start_matches("  --> ").split(':').collect();
    assert_eq!(location.len(), 3, "{first}");
    assert!(
        location[1].parse::<usize>().is_ok() && location[2].parse::<usize>().is_ok(),
        "{first}"
    );
    assert!(
        text.ends_with("0 errors, 0 warnings in 0 objects; 1 input could not be checked\n"),
        "{text}"
    );
}

#[test]
fn a_document_without_kind_is_reported_and_the_others_still_checked() {
    let text = format!("apiVersion: v1\nmetadata: {{name: x}}\n---\n{CLEAN}");
    let dir = files(&[("mixed.yaml", &text)]);
    let output = counsel(dir.path(), &["check", "-f", "mixed.yaml"], None);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(2), "{text}");
    assert!(
        text.starts_with(
            "error: this object has no kind; it cannot be checked\n  --> mixed.yaml:1:1\n"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("0 errors, 0 warnings in 1 object; 1 input could not be checked\n"),
        "{text}"
    );
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = files(&[("deploy.yaml", PRIVILEGED)]);
    let output = counsel(
        dir.path(),
        &["check", "-f", "deploy.yaml", "--output", "json"],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let results = document["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let deployment = &results[0];
    assert_eq!(deployment["file"], "deploy.yaml");
    assert_eq!(deployment["document"], 0);
    assert_eq!(deployment["kind"], "Deployment");
    assert_eq!(deployment["name"], "web");
    assert_eq!(deployment["namespace"], "shop");
    assert_eq!(deployment["allowed"], false);
    let privileged = &deployment["violations"][0];
    assert_eq!(
        privileged,
        &json!({
            "policy": "pod-security",
            "rule": "privileged",
            "mode": "enforce",
            "severity": "critical",
            "message": "container \"app\" runs privileged",
            "path": "/spec/template/spec/containers/0/securityContext/privileged",
            "field": "spec.template.spec.containers[0].securityContext.privileged",
            "line": 22,
            "column": 13,
            "found": true,
            "why": privileged["why"],
            "docs": "https://kubernetes.io/docs/concepts/security/pod-security-standards/#baseline",
            "contact": null,
            "owner": null,
            "fixes": [{"op": "set", "path": "/spec/template/spec/containers/0/securityContext/privileged", "value": false}],
            "fixSafety": "safe",
            "hint": privileged["hint"],
        })
    );
    assert!(
        privileged["why"]
            .as_str()
            .is_some_and(|w| w.starts_with("A privileged container"))
    );
    let service = &results[1];
    assert_eq!(
        (
            service["kind"].as_str(),
            service["document"].as_u64(),
            service["allowed"].as_bool()
        ),
        (Some("Service"), Some(1), Some(true))
    );
    assert_eq!(service["violations"], json!([]));
    assert_eq!(document["errors"], json!([]));
}

#[test]
fn list_items_and_stdin_are_checked() {
    let list = format!(
        "{{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [\n  {}\n]}}\n",
        serde_json::to_string(&json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "dev"},
            "spec": {"hostNetwork": true, "containers": [{"name": "c", "image": "busybox:1.36"}]}}))
        .expect("json")
    );
    let dir = files(&[]);
    let output = counsel(dir.path(), &["check", "-f", "-", "-o", "json"], Some(&list));
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let pod = &document["results"][0];
    assert_eq!(pod["file"], "-");
    assert_eq!(pod["kind"], "Pod");
    let host_network = pod["violations"]
        .as_array()
        .expect("violations")
        .iter()
        .find(|v| v["rule"] == "host-namespaces")
        .expect("hostNetwork is reported");
    assert_eq!(host_network["path"], "/spec/hostNetwork");
    assert_eq!(host_network["line"], 2);
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn namespace_flag_and_kube_system_exclusion() {
    let pod = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: busybox:1.36, securityContext: {privileged: true}}]\n";
    let dir = files(&[("pod.yaml", pod)]);
    let output = counsel(
        dir.path(),
        &["check", "-f", "pod.yaml", "-n", "kube-system"],
        None,
    );
    assert_eq!(stdout(&output), "0 errors, 0 warnings in 1 object\n");
    assert_eq!(output.status.code(), Some(0));
    let output = counsel(dir.path(), &["check", "-f", "pod.yaml", "-n", "team"], None);
    assert!(stdout(&output).starts_with(
        "error[pod-security/privileged]: Pod team/p: container \"c\" runs privileged\n"
    ));
}

/// A configuration that enforces the baseline only in namespaces labelled
/// `env: prod`.
const PROD_ONLY: &str = "\
policies:
  - name: pod-security
    module: builtin:pod-security
    settings: {level: baseline}
    contact: \"#platform\"
    match:
      namespaceSelector:
        matchLabels: {env: prod}
";

const SHOP_POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: shop}\nspec:\n  containers: [{name: c, image: busybox:1.36, securityContext: {privileged: true}}]\n";

#[test]
fn namespace_selectors_read_namespace_labels_from_the_option_and_the_input() {
    let shop = |labels: &str| {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {labels}\n  annotations: {{counsel.dev/owner: team-shop, counsel.dev/contact: \"#shop-oncall\"}}\n---\n{SHOP_POD}"
        )
    };
    let dir = files(&[
        ("counsel.yaml", PROD_ONLY),
        ("pod.yaml", SHOP_POD),
        ("dev.yaml", &shop("{env: dev}")),
        ("prod.yaml", &shop("{env: prod}")),
    ]);
    let check = |args: &[&str]| {
        let mut full = vec!["check", "-c", "counsel.yaml"];
        full.extend_from_slice(args);
        let output = counsel(dir.path(), &full, None);
        (
            output.status.code(),
            stdout(&output),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let denied = "error[pod-security/privileged]: Pod shop/p: container \"c\" runs privileged\n";
    // Unknown: every selector selects it.
    let (code, text, _) = check(&["-f", "pod.yaml"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with(denied), "{text}");
    let (code, text, _) = check(&[
        "-f",
        "pod.yaml",
        "--namespace-labels",
        "shop=env=dev,tier=web",
    ]);
    assert_eq!(
        (code, text.as_str()),
        (Some(0), "0 errors, 0 warnings in 1 object\n")
    );
    let (code, text, _) = check(&["-f", "pod.yaml", "--namespace-labels", "shop=env=prod"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with(denied), "{text}");
    // A Namespace in the input counts for what follows it, over the option.
    let (code, text, _) = check(&["-f", "dev.yaml", "--namespace-labels", "shop=env=prod"]);
    assert_eq!(
        (code, text.as_str()),
        (Some(0), "0 errors, 0 warnings in 2 objects\n")
    );
    let (code, text, _) = check(&["-f", "prod.yaml"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.starts_with(denied), "{text}");
    // Whom to ask: ops' contact, then the namespace's owner.
    assert!(
        text.contains(
            "   = contact: #platform\n   = owner: team-shop, #shop-oncall (owns namespace shop)\n"
        ),
        "{text}"
    );
    let (_, json, _) = check(&["-f", "prod.yaml", "--output", "json"]);
    let document: Value = serde_json::from_str(&json).expect("JSON");
    let violation = &document["results"][1]["violations"][0];
    assert_eq!(violation["contact"], "#platform");
    assert_eq!(
        violation["owner"],
        "team-shop, #shop-oncall (owns namespace shop)"
    );
    // A malformed option is refused, saying how it should read.
    let (code, _, stderr) = check(&["-f", "pod.yaml", "--namespace-labels", "shop=env"]);
    assert_eq!(code, Some(2));
    assert!(
        stderr.starts_with("error: invalid value 'shop=env' for '--namespace-labels <NAME=LABELS>': \"shop=env\": label \"env\" has no `=VALUE`\n"),
        "{stderr}"
    );
}

#[test]
fn links_are_followed_but_every_file_and_directory_is_read_once() {
    use std::os::unix::fs::symlink;
    let dir = files(&[("app/deploy.yaml", CLEAN), ("app/a/.keep", "")]);
    let app = dir.path().join("app");
    // Two loops below one directory, one to the top, and a second name for a file.
    symlink("../a", app.join("a/again")).expect("link");
    symlink("..", app.join("a/back")).expect("link");
    symlink(".", app.join("loop")).expect("link");
    symlink("deploy.yaml", app.join("same.yaml")).expect("link");
    let output = counsel(dir.path(), &["check", "-f", "app"], None);
    assert_eq!(
        stdout(&output),
        "note: app/a/again: a link back to app/a, which is being searched (a loop); not searched again\n\n\
         note: app/a/back: a link back to app, which is being searched (a loop); not searched again\n\n\
         note: app/loop: a link back to app, which is being searched (a loop); not searched again\n\n\
         note: app/same.yaml: the same file as app/deploy.yaml, already checked; not checked again\n\n\
         0 errors, 0 warnings in 1 object\n"
    );
    assert_eq!(output.status.code(), Some(0));
    let output = counsel(dir.path(), &["check", "-f", "app", "-o", "json"], None);
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(document["results"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        document["skipped"][3],
        json!({"path": "app/same.yaml", "reason": "the same file as app/deploy.yaml, already checked; not checked again"})
    );
}

#[test]
fn text_that_is_not_utf8_is_reported_at_its_line_and_column() {
    let dir = files(&[]);
    std::fs::write(
        dir.path().join("bad.yaml"),
        b"apiVersion: v1\nkind: Pod\nmetadata: {name: caf\xE9}\n",
    )
    .expect("write");
    let output = counsel(dir.path(), &["check", "-f", "bad.yaml"], None);
    assert_eq!(
        stdout(&output),
        "error: this is not UTF-8 text: byte 0xE9 here is not part of a UTF-8 character (manifests are UTF-8, or UTF-16 starting with a byte order mark)\n  \
         --> bad.yaml:3:21\n\n\
         0 errors, 0 warnings in 0 objects; 1 input could not be checked\n"
    );
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn utf16_with_a_byte_order_mark_is_read_as_kubectl_reads_it() {
    let utf8 = files(&[("deploy.yaml", PRIVILEGED)]);
    let expected = counsel(utf8.path(), &["check", "-f", "deploy.yaml"], None);
    for (bom, big_endian) in [([0xFF, 0xFE], false), ([0xFE, 0xFF], true)] {
        let dir = files(&[]);
        let mut bytes = bom.to_vec();
        bytes.extend(PRIVILEGED.encode_utf16().flat_map(|unit| {
            if big_endian {
                unit.to_be_bytes()
            } else {
                unit.to_le_bytes()
            }
        }));
        std::fs::write(dir.path().join("deploy.yaml"), bytes).expect("write");
        let output = counsel(dir.path(), &["check", "-f", "deploy.yaml"], None);
        assert_eq!(stdout(&output), stdout(&expected));
        assert_eq!(output.status.code(), Some(1));
    }
}

#[test]
fn many_files_and_documents_are_reported_in_order_one_after_another() {
    let pod = |name: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: shop}}\nspec:\n  containers:\n    - name: app\n      image: registry.example.com/app:1.0\n      securityContext: {{privileged: true}}\n"
        )
    };
    let first = format!("{}---\n{}", pod("a"), pod("b"));
    let dir = files(&[
        ("m/1.yaml", &first),
        ("m/2.yaml", "kind: Pod\n"),
        ("m/3.yaml", &pod("c")),
    ]);
    let output = counsel(dir.path(), &["check", "-f", "m", "-o", "json"], None);
    let document: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let names: Vec<(&str, &str, u64)> = document["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| {
            (
                r["file"].as_str().unwrap_or_default(),
                r["name"].as_str().unwrap_or_default(),
                r["document"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        names,
        [
            ("m/1.yaml", "a", 0),
            ("m/1.yaml", "b", 1),
            ("m/3.yaml", "c", 0)
        ]
    );
    assert_eq!(
        document["errors"],
        json!([{"file": "m/2.yaml", "line": 1, "column": 1, "message": "this object has no apiVersion; it cannot be checked"}])
    );
    let output = counsel(dir.path(), &["check", "-f", "m"], None);
    let text = stdout(&output);
    let at = |needle: &str| {
        text.find(needle)
            .unwrap_or_else(|| panic!("{needle}\n{text}"))
    };
    assert!(at("Pod shop/a: container") < at("Pod shop/b: container"));
    assert!(at("Pod shop/b: container") < at("  --> m/2.yaml:1:1"));
    assert!(at("  --> m/2.yaml:1:1") < at("Pod shop/c: container"));
}

#[test]
fn an_update_without_a_stored_object_denies_only_under_strict_updates() {
    // The old object of `--operation UPDATE` is the file itself: an update
    // that changes nothing, so nothing already there denies, as in the
    // cluster; a policy with `updates: strict` still denies.
    let strict = "policies:\n  - name: pod-security\n    module: builtin:pod-security\n    settings: {level: restricted}\n    updates: strict\n";
    let dir = files(&[("deploy.yaml", PRIVILEGED), ("strict.yaml", strict)]);
    let output = counsel(
        dir.path(),
        &["check", "--operation", "UPDATE", "-f", "deploy.yaml"],
        None,
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.starts_with("warning[pod-security/privileged]: Deployment shop/web: already there before this change: container \"app\" runs privileged\n"),
        "{text}"
    );
    assert!(
        text.ends_with("0 errors, 11 warnings in 2 objects\n"),
        "{text}"
    );
    let output = counsel(
        dir.path(),
        &[
            "check",
            "-c",
            "strict.yaml",
            "--operation",
            "UPDATE",
            "-f",
            "deploy.yaml",
        ],
        None,
    );
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(
        text.starts_with("error[pod-security/privileged]: Deployment shop/web: container \"app\" runs privileged\n"),
        "{text}"
    );
}
