//! Exceptions in `counsel check`, as a developer and CI see them: the real
//! binary, the bundled container-security policy, exception objects in
//! files (`--exceptions`), and the exception a developer asks ops for
//! (`--draft-exception`).

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};

use crate::support::cli::{self, text};
use crate::support::times;

const DAY: i64 = 86_400;

const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
        - name: agent
          image: nginx:1.27
          securityContext: {privileged: true, allowPrivilegeEscalation: true}
";

fn config() -> String {
    format!(
        "policies:\n  - name: container-security\n    module: {}/policies/dist/container-security.wasm\n    mode: enforce\n",
        env!("CARGO_MANIFEST_DIR")
    )
}

fn exception(expires: &str, rules: &str) -> String {
    format!(
        "\
apiVersion: counsel.dev/v1alpha1
kind: CounselException
metadata: {{name: legacy-agent, namespace: shop}}
spec:
  policy: container-security
  rules: {rules}
  objects: {{kinds: [Deployment], names: [web]}}
  containers: [agent]
  reason: the vendor agent needs the host's devices until v5
  owner: team-payments
  expires: {expires:?}
  ticket: https://tickets.example.com/OPS-42
"
    )
}

/// `counsel check` with the configuration of [`files`], without colour.
fn counsel(dir: &Path, args: &[&str]) -> Output {
    let check = ["check", "--config", "counsel.yaml", "--color", "never"];
    cli::counsel(dir, &[&check[..], args].concat(), None)
}

/// The configuration, the Deployment (`deploy.yaml`) and `entries`.
fn files(entries: &[(&str, &str)]) -> tempfile::TempDir {
    let config = config();
    let mut all = vec![
        ("counsel.yaml", config.as_str()),
        ("deploy.yaml", DEPLOYMENT),
    ];
    all.extend_from_slice(entries);
    cli::files(&all)
}

/// The `= excepted:` lines of pretty output.
fn excepted_lines(output: &Output) -> Vec<String> {
    text(&output.stdout)
        .lines()
        .filter(|line| line.starts_with("   = excepted: "))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_live_exception_lets_its_findings_through_and_says_whose_it_is() {
    let expires = times::from_now(20 * DAY);
    let dir = files(&[("exceptions.yaml", &exception(&expires, "[privileged]"))]);
    let output = counsel(
        dir.path(),
        &["-f", "deploy.yaml", "--exceptions", "exceptions.yaml"],
    );
    let stdout = text(&output.stdout);
    // allowPrivilegeEscalation is not excepted: it still denies.
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(
        "warning[container-security/privileged]: Deployment shop/web: container \"agent\" runs privileged\n"
    ));
    assert!(stdout.contains("error[container-security/allow-privilege-escalation]"));
    assert_eq!(
        excepted_lines(&output),
        [format!(
            "   = excepted: by CounselException shop/legacy-agent (owner: team-payments; expires in 20 days, {expires}): the vendor agent needs the host's devices until v5"
        )]
    );
    assert!(stdout.contains("   = ticket: https://tickets.example.com/OPS-42\n"));
    assert!(
        stdout.ends_with("1 error, 1 warning in 1 object\n"),
        "{stdout}"
    );
}

#[test]
fn json_counts_an_excepted_finding_with_its_exception() {
    let expires = times::from_now(3 * DAY);
    let exceptions = exception(&expires, "[privileged, allow-privilege-escalation]");
    let dir = files(&[("exceptions.yaml", &exceptions)]);
    let output = counsel(
        dir.path(),
        &[
            "-f",
            "deploy.yaml",
            "--exceptions",
            "exceptions.yaml",
            "-o",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    let result = &report["results"][0];
    assert_eq!(result["allowed"], json!(true));
    let violations = result["violations"].as_array().expect("violations");
    assert_eq!(violations.len(), 2, "exceptions hide nothing");
    for violation in violations {
        assert_eq!(violation["mode"], json!("warn"));
        assert_eq!(
            violation["excepted"],
            json!({
                "exception": "CounselException shop/legacy-agent",
                "name": "legacy-agent",
                "namespace": "shop",
                "reason": "the vendor agent needs the host's devices until v5",
                "owner": "team-payments",
                "expires": expires,
                "ticket": "https://tickets.example.com/OPS-42",
                "status": "expires soon, in 3 days",
                "modeWithout": "enforce",
            })
        );
    }
    // Near the end, it says what will then be enforced.
    let pretty = counsel(
        dir.path(),
        &["-f", "deploy.yaml", "--exceptions", "exceptions.yaml"],
    );
    assert_eq!(
        excepted_lines(&pretty)[0],
        format!(
            "   = excepted: by CounselException shop/legacy-agent (owner: team-payments; expires soon, in 3 days, {expires}; then this is denied): the vendor agent needs the host's devices until v5"
        )
    );
}

#[test]
fn an_expired_exception_is_named_in_the_denial() {
    let expires = times::from_now(-2 * DAY);
    let dir = files(&[("exceptions.yaml", &exception(&expires, "[privileged]"))]);
    let output = counsel(
        dir.path(),
        &["-f", "deploy.yaml", "--exceptions", "exceptions.yaml"],
    );
    assert_eq!(output.status.code(), Some(1));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains(&format!(
            "error[container-security/privileged]: Deployment shop/web: container \"agent\" runs privileged (the exception CounselException shop/legacy-agent (owner: team-payments) expired 2 days ago, at {expires}, so this counts again)\n"
        )),
        "{stdout}"
    );
    assert!(excepted_lines(&output).is_empty());
}

#[test]
fn an_exception_the_webhook_would_refuse_stops_the_run_at_its_line() {
    let bad = exception(&times::from_now(120 * DAY), "[privileged, no-such-rule]")
        .replace("  owner: team-payments\n", "");
    let dir = files(&[("exceptions.yaml", &bad)]);
    let output = counsel(
        dir.path(),
        &["-f", "deploy.yaml", "--exceptions", "exceptions.yaml"],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "error: --exceptions: exceptions cannot be used:");
    assert_eq!(
        lines[1],
        "exceptions.yaml:4: CounselException shop/legacy-agent: spec.owner: missing; an exception must name who answers for it (a team, a person)"
    );
    assert!(
        lines[2]
            .starts_with("exceptions.yaml:10: CounselException shop/legacy-agent: spec.expires: "),
        "{stderr}"
    );
    assert!(lines[2].contains(" is 120 days from now, beyond the longest lifetime ops allow (90 days, exceptions.maxLifetime in counsel.yaml); expire it by "), "{stderr}");
    assert_eq!(
        lines[3],
        "exceptions.yaml:6: CounselException shop/legacy-agent: spec.rules[1]: the policy \"container-security\" has no rule \"no-such-rule\"; its rules are privileged, allow-privilege-escalation, run-as-non-root, invalid-field"
    );
}

#[test]
fn a_drafted_exception_lets_exactly_those_violations_through() {
    let dir = files(&[]);
    let draft = counsel(
        dir.path(),
        &[
            "-f",
            "deploy.yaml",
            "--draft-exception",
            "--reason",
            "the vendor agent needs the host's devices",
            "--owner",
            "team-payments",
            "--expires",
            "30d",
            "--ticket",
            "https://tickets.example.com/OPS-42",
        ],
    );
    assert_eq!(draft.status.code(), Some(0), "{}", text(&draft.stderr));
    let drafted = text(&draft.stdout);
    let expires = drafted
        .lines()
        .find_map(|line| line.strip_prefix("  expires: "))
        .expect("an expiry")
        .to_owned();
    assert_eq!(
        drafted,
        format!(
            "# Asked for by counsel check: lets Deployment shop/web through container-security's rules allow-privilege-escalation, privileged.
apiVersion: counsel.dev/v1alpha1
kind: CounselException
metadata:
  name: web-container-security
  namespace: \"shop\"
spec:
  policy: \"container-security\"
  rules: [\"allow-privilege-escalation\", \"privileged\"]
  objects:
    kinds: [\"Deployment\"]
    names: [\"web\"]
  containers: [\"agent\"]
  reason: \"the vendor agent needs the host's devices\"
  owner: \"team-payments\"
  expires: {expires}
  ticket: \"https://tickets.example.com/OPS-42\"
"
        )
    );
    std::fs::write(dir.path().join("draft.yaml"), &drafted).expect("write");
    let applied = counsel(
        dir.path(),
        &["-f", "deploy.yaml", "--exceptions", "draft.yaml"],
    );
    let stdout = text(&applied.stdout);
    assert_eq!(applied.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.ends_with("0 errors, 2 warnings in 1 object\n"),
        "{stdout}"
    );
    assert_eq!(excepted_lines(&applied).len(), 2);
    assert!(excepted_lines(&applied)[0].contains("expires in 30 days"));
}
