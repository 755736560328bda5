//! `counsel run`: one policy with settings on the command line, on a
//! manifest (as `counsel check` shows it) and on an AdmissionReview (as the
//! webhook decodes it); `--review` makes the AdmissionReview that
//! `counsel serve` answers.

use crate::support::cli::{counsel, files, text};
use crate::support::client::{Protocol, TlsClient};
use crate::support::counsel_process::CounselProcess;
use serde_json::Value;

const SETTINGS: &str = "{rules: [{id: replicas, title: At most 3 replicas, kinds: [Deployment], validate: 'object.spec.replicas <= 3', path: spec.replicas}]}";

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 7
";

#[test]
fn a_policy_runs_on_a_manifest_with_settings_inline_or_from_a_file() {
    let dir = files(&[
        ("deploy.yaml", DEPLOYMENT),
        ("rules.yaml", &format!("{SETTINGS}\n")),
    ]);
    let expected = "\
error[cel/replicas]: Deployment shop/web: At most 3 replicas
  --> deploy.yaml:7:3
  |
7 |   replicas: 7
  |   ^^^^^^^^^^^ found: 7
  |
   = field: spec.replicas (found: 7)
   = why: The people who run Counsel require it.

1 error, 0 warnings in 1 object
";
    for settings in [SETTINGS, "@rules.yaml"] {
        let output = counsel(
            dir.path(),
            &["run", "builtin:cel", "-s", settings, "-f", "deploy.yaml"],
            None,
        );
        assert_eq!(text(&output.stdout), expected);
        assert_eq!(output.status.code(), Some(1));
    }
    let output = counsel(
        dir.path(),
        &[
            "run",
            "builtin:cel",
            "-s",
            "rules: [{id: x, validate: 'objct.x'}]",
            "-f",
            "deploy.yaml",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).starts_with("error: --settings:1: policy \"cel\": settings: "),
        "{}",
        text(&output.stderr)
    );
}

#[test]
fn the_review_of_a_manifest_is_judged_by_run_and_by_serve_alike() {
    let dir = files(&[
        ("deploy.yaml", DEPLOYMENT),
        ("old.yaml", &DEPLOYMENT.replace("7", "2")),
    ]);
    let output = counsel(
        dir.path(),
        &["run", "--review", "-f", "deploy.yaml", "--old", "old.yaml"],
        None,
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let review: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(review["kind"], "AdmissionReview");
    assert_eq!(review["request"]["operation"], "UPDATE");
    assert_eq!(review["request"]["resource"]["resource"], "deployments");
    assert_eq!(review["request"]["oldObject"]["spec"]["replicas"], 2);
    std::fs::write(dir.path().join("review.json"), &output.stdout).expect("write");

    let output = counsel(
        dir.path(),
        &[
            "run",
            "builtin:cel",
            "-s",
            SETTINGS,
            "--request",
            "review.json",
        ],
        None,
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.starts_with(
            "error[cel/replicas]: Deployment shop/web: At most 3 replicas\n  --> review.json:"
        ),
        "{stdout}"
    );

    let config =
        format!("policies:\n  - name: cel\n    module: builtin:cel\n    settings: {SETTINGS}\n");
    let serve = CounselProcess::start(Some(&config), &[]);
    let ca = std::fs::read(serve.dir.path().join("certs/ca.crt")).expect("dev CA");
    let client = TlsClient::new(&ca, serve.webhook, Protocol::Http2);
    let body = std::fs::read(dir.path().join("review.json")).expect("review");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let reply = runtime
        .block_on(client.post("/validate", Some("application/json"), body))
        .expect("an answer");
    let answer = reply.json();
    assert_eq!(answer["response"]["uid"], "counsel-run-review");
    assert_eq!(answer["response"]["allowed"], false);
    let message = answer["response"]["status"]["message"]
        .as_str()
        .unwrap_or_default();
    assert!(message.contains("[cel/replicas]"), "{answer}");
}
