use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde_json::{Value, json};

use super::*;
use crate::config::Mode;

/// A catalog of two policies.
struct Policies;

impl Catalog for Policies {
    fn policies(&self) -> Vec<&str> {
        vec!["pod-security", "hygiene"]
    }

    fn rules(&self, policy: &str) -> Option<Vec<&str>> {
        match policy {
            "pod-security" => Some(vec!["privileged", "run-as-non-root"]),
            "hygiene" => Some(vec!["latest-tag"]),
            _ => None,
        }
    }
}

const DAY: u64 = 86_400;

fn now() -> SystemTime {
    // 2026-12-05T00:00:00Z
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_428_800)
}

fn exception(kind: &str, name: &str, spec: Value) -> Value {
    let mut metadata = json!({"name": name});
    if kind == NAMESPACED_KIND {
        metadata["namespace"] = json!("shop");
    }
    let mut object = json!({
        "apiVersion": API_VERSION,
        "kind": kind,
        "metadata": metadata,
        "spec": {
            "policy": "pod-security",
            "rules": ["privileged"],
            "objects": {"kinds": ["Deployment"]},
            "reason": "legacy agent needs the host",
            "owner": "team-payments",
            "expires": "2026-12-17T00:00:00Z",
        },
    });
    for (key, value) in spec.as_object().into_iter().flatten() {
        object["spec"][key] = value.clone();
    }
    object
}

fn index(objects: &[Value]) -> Exceptions {
    let (exceptions, errors) =
        Exceptions::from_objects(objects, &Policies, ExceptionSettings::default(), now());
    assert_eq!(errors, Vec::new());
    exceptions
}

fn target<'a>(
    namespace: Option<&'a str>,
    namespace_labels: Option<&'a BTreeMap<String, String>>,
) -> Target<'a> {
    Target {
        kind: "Deployment",
        name: "web",
        labels: None,
        namespace,
        namespace_labels,
    }
}

fn names(
    exceptions: &Exceptions,
    rule: &str,
    target: &Target<'_>,
    container: Option<&str>,
) -> Vec<String> {
    exceptions
        .covering("pod-security", rule, target, container)
        .map(Exception::describe)
        .collect()
}

#[test]
fn a_namespaced_exception_covers_its_namespace_and_rules_only() {
    let exceptions = index(&[exception(NAMESPACED_KIND, "legacy", json!({}))]);
    assert_eq!(
        names(&exceptions, "privileged", &target(Some("shop"), None), None),
        ["CounselException shop/legacy"]
    );
    assert!(
        names(
            &exceptions,
            "privileged",
            &target(Some("other"), None),
            None
        )
        .is_empty()
    );
    assert!(
        names(
            &exceptions,
            "run-as-non-root",
            &target(Some("shop"), None),
            None
        )
        .is_empty()
    );
    assert!(names(&exceptions, "privileged", &target(None, None), None).is_empty());
}

#[test]
fn objects_match_by_kind_name_prefix_labels_and_container() {
    let exceptions = index(&[exception(
        NAMESPACED_KIND,
        "legacy",
        json!({
            "objects": {"kinds": ["Deployment"], "names": ["we*"], "selector": {"matchLabels": {"app": "web"}}},
            "containers": ["agent"],
        }),
    )]);
    let labels = json!({"app": "web"});
    let mut at = target(Some("shop"), None);
    at.labels = labels.as_object();
    assert_eq!(
        names(&exceptions, "privileged", &at, Some("agent")).len(),
        1
    );
    assert!(names(&exceptions, "privileged", &at, Some("app")).is_empty());
    assert!(names(&exceptions, "privileged", &at, None).is_empty());
    let other = json!({"app": "api"});
    at.labels = other.as_object();
    assert!(names(&exceptions, "privileged", &at, Some("agent")).is_empty());
    at.labels = labels.as_object();
    at.name = "api";
    assert!(names(&exceptions, "privileged", &at, Some("agent")).is_empty());
    at.name = "web";
    at.kind = "StatefulSet";
    assert!(names(&exceptions, "privileged", &at, Some("agent")).is_empty());
}

#[test]
fn cluster_exceptions_select_namespaces_by_name_prefix_or_labels() {
    let exceptions = index(&[
        exception(
            CLUSTER_KIND,
            "by-name",
            json!({"namespaces": ["shop", "pay"]}),
        ),
        exception(CLUSTER_KIND, "by-prefix", json!({"namespaces": ["team-*"]})),
        exception(
            CLUSTER_KIND,
            "by-label",
            json!({"namespaceSelector": {"matchLabels": {"tier": "legacy"}}}),
        ),
        exception(
            CLUSTER_KIND,
            "by-name-label",
            json!({"namespaceSelector": {"matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["ops"]}
            ]}}),
        ),
        exception(
            CLUSTER_KIND,
            "everywhere",
            json!({"rules": ["run-as-non-root"]}),
        ),
    ]);
    let legacy = BTreeMap::from([("tier".to_owned(), "legacy".to_owned())]);
    let at = |ns, labels| names(&exceptions, "privileged", &target(ns, labels), None);
    assert_eq!(at(Some("pay"), None), ["ClusterCounselException by-name"]);
    assert_eq!(
        at(Some("team-a"), None),
        ["ClusterCounselException by-prefix"]
    );
    assert_eq!(
        at(Some("old"), Some(&legacy)),
        ["ClusterCounselException by-label"]
    );
    // Unknown labels: the name label still holds.
    assert_eq!(
        at(Some("ops"), None),
        ["ClusterCounselException by-name-label"]
    );
    assert!(at(Some("old"), None).is_empty());
    assert!(at(None, None).is_empty());
    let everywhere = |ns| names(&exceptions, "run-as-non-root", &target(ns, None), None);
    assert_eq!(
        everywhere(Some("any")),
        ["ClusterCounselException everywhere"]
    );
    assert_eq!(everywhere(None), ["ClusterCounselException everywhere"]);
}

#[test]
fn every_problem_is_named_at_its_field() {
    let mut bad = exception(
        NAMESPACED_KIND,
        "bad",
        json!({
            "policy": "pod-security",
            "rules": ["privileged", "no-such-rule"],
            "expires": "next week",
            "namespaces": ["x"],
        }),
    );
    let spec = bad["spec"].as_object_mut().expect("spec");
    spec.remove("reason");
    spec.insert("owner".into(), json!(" "));
    let error =
        check(&bad, None, &Policies, &ExceptionSettings::default(), now()).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "CounselException shop/bad: spec.reason: missing; an exception must say why it is granted; \
         spec.owner: missing; an exception must name who answers for it (a team, a person); \
         spec.expires: \"next week\" is not an RFC 3339 time; write e.g. 2026-12-31T00:00:00Z; \
         spec.rules[1]: the policy \"pod-security\" has no rule \"no-such-rule\"; its rules are privileged, run-as-non-root; \
         spec.namespaces: a CounselException applies in its own namespace only; use a ClusterCounselException for others"
    );
}

#[test]
fn lifetimes_beyond_the_maximum_and_unknown_policies_are_refused() {
    let long = exception(
        NAMESPACED_KIND,
        "long",
        json!({"expires": "2027-06-01T00:00:00Z", "policy": "nope"}),
    );
    let error =
        check(&long, None, &Policies, &ExceptionSettings::default(), now()).expect_err("refused");
    assert_eq!(
        error.to_string(),
        "CounselException shop/long: spec.expires: 2027-06-01T00:00:00Z is 178 days from now, \
         beyond the longest lifetime ops allow (90 days, exceptions.maxLifetime in counsel.yaml); \
         expire it by 2027-03-05T00:00:00Z; \
         spec.policy: no policy named \"nope\" is configured; the policies are pod-security, hygiene"
    );
}

fn finding(rule: &str, mode: Mode) -> Finding {
    Finding {
        policy: "pod-security".into(),
        rule: rule.into(),
        mode,
        severity: counsel_contract::Severity::High,
        title: String::new(),
        message: "privileged".into(),
        pointer: "/spec/template/spec/containers/0/securityContext/privileged".into(),
        field: String::new(),
        found: Some(json!(true)),
        why: String::new(),
        docs: None,
        contact: None,
        owner: None,
        fixes: Vec::new(),
        fix_safety: counsel_contract::FixSafety::Safe,
        fix_fields: Vec::new(),
        hint: None,
        exception: None,
    }
}

#[test]
fn findings_get_the_live_exception_that_runs_longest_else_the_last_expired() {
    let exceptions = index(&[
        exception(
            NAMESPACED_KIND,
            "short",
            json!({"expires": "2026-12-08T00:00:00Z"}),
        ),
        exception(
            NAMESPACED_KIND,
            "long",
            json!({"expires": "2026-12-30T00:00:00Z"}),
        ),
        exception(
            NAMESPACED_KIND,
            "gone",
            json!({"expires": "2026-12-01T00:00:00Z"}),
        ),
    ]);
    let object = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent"}]}}}});
    let at = target(Some("shop"), None);
    let mut findings = vec![finding("privileged", Mode::Enforce)];
    exceptions.apply(&mut findings, &at, Some(&object), now());
    assert_eq!(findings[0].mode, Mode::Warn);
    let excepted = findings[0].excepted_by().expect("excepted");
    assert_eq!(excepted.exception, "CounselException shop/long");
    assert_eq!(excepted.when(), "expires in 25 days");
    assert_eq!(excepted.mode, Mode::Enforce);
    // Within 14 days of the end, it says so.
    let mut findings = vec![finding("privileged", Mode::Enforce)];
    exceptions.apply(
        &mut findings,
        &at,
        Some(&object),
        now() + Duration::from_secs(20 * DAY),
    );
    assert_eq!(
        findings[0].excepted_by().map(|e| (e.when(), e.then())),
        Some(("expires soon, in 5 days".to_owned(), "then this is denied"))
    );
    // Once all have expired, the finding counts again and names the last.
    let mut findings = vec![finding("privileged", Mode::Enforce)];
    exceptions.apply(
        &mut findings,
        &at,
        Some(&object),
        now() + Duration::from_secs(27 * DAY),
    );
    assert_eq!(findings[0].mode, Mode::Enforce);
    assert_eq!(
        findings[0].message,
        "privileged (the exception CounselException shop/long (owner: team-payments) expired 2 days ago, \
         at 2026-12-30T00:00:00Z, so this counts again)"
    );
}

#[test]
fn container_names_are_read_from_the_finding_s_container() {
    assert_eq!(
        container_name_pointer("/spec/template/spec/initContainers/2/securityContext/privileged")
            .as_deref(),
        Some("/spec/template/spec/initContainers/2/name")
    );
    assert_eq!(container_name_pointer("/spec/hostNetwork"), None);
}
