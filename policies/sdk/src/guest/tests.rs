use super::*;
use crate::{Verdict as PolicyVerdict, field, json, workload};
use serde::Deserialize;

/// A small policy exercising every part of the boundary.
struct NoHostNetwork;

const HOST_NETWORK: Rule = Rule::new(
    "host-network",
    "Pods must not use the host's network",
    "A pod on the host network can reach every service bound to the node.",
)
.docs("https://kubernetes.io/docs/concepts/security/pod-security-standards/")
.severity(Severity::High)
.fix_safety(FixSafety::Safe);

#[derive(Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Settings {
    allowed: Vec<String>,
}

impl Policy for NoHostNetwork {
    type Settings = Settings;

    fn metadata() -> PolicyMetadata {
        PolicyMetadata {
            name: "no-host-network".into(),
            version: "1.2.3".into(),
            description: "No host network.".into(),
            kinds: vec!["Pod".into()],
            rules: vec![HOST_NETWORK],
        }
    }

    fn validate_settings(settings: &Settings) -> Result<(), String> {
        if settings.allowed.iter().any(|name| name == "*") {
            return Err("setting `allowed` may not contain `*`; list pod names".into());
        }
        Ok(())
    }

    fn validate(request: &Request, settings: &Settings) -> PolicyVerdict {
        let mut verdict = PolicyVerdict::default();
        if request
            .name()
            .is_some_and(|name| settings.allowed.iter().any(|a| a == name))
        {
            verdict.warn("host network allowed by configuration");
            return verdict;
        }
        let Some(object) = request.object() else {
            return verdict;
        };
        let found = workload::pod_specs(object);
        verdict.extend(found.problems);
        for spec in &found.specs {
            match field::boolean(spec.spec, "hostNetwork", &spec.pointer) {
                Ok(Some(true)) => {
                    let path = spec.pointer_to(&["hostNetwork"]);
                    verdict.push(
                        violation(HOST_NETWORK.id)
                            .at(&path)
                            .message("the pod uses the host's network")
                            .found(&json!(true))
                            .fix_remove(&path)
                            .fix_set(spec.pointer_to(&["dnsPolicy"]), json!("ClusterFirst")),
                    );
                }
                Ok(_) => {}
                Err(problem) => verdict.push(problem),
            }
        }
        verdict
    }
}

fn request(object: Value) -> String {
    json!({
        "operation": "CREATE",
        "kind": {"group": "", "version": "v1", "kind": "Pod"},
        "name": "web",
        "object": object,
    })
    .to_string()
}

use serde_json::Value;

#[test]
fn metadata_crosses_the_boundary_with_the_builtin_rule() {
    let m = metadata::<NoHostNetwork>();
    assert_eq!(m.name, "no-host-network");
    assert_eq!(m.version, "1.2.3");
    assert_eq!(m.description, "No host network.");
    assert_eq!(m.kinds, ["Pod"]);
    let rules: Vec<_> = m
        .rules
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.title.as_str(),
                r.docs.as_deref(),
                r.severity,
            )
        })
        .collect();
    assert_eq!(
        rules,
        [
            (
                "host-network",
                "Pods must not use the host's network",
                Some("https://kubernetes.io/docs/concepts/security/pod-security-standards/"),
                wit::Severity::High
            ),
            (
                "invalid-field",
                "Fields must have the type Kubernetes expects",
                INVALID_FIELD.docs,
                wit::Severity::High
            ),
        ]
    );
    assert_eq!(m.rules[0].why, HOST_NETWORK.why);
    assert_eq!(m.rules[0].fix_safety, wit::FixSafety::Safe);
    assert_eq!(m.rules[1].fix_safety, wit::FixSafety::Suggestion);
}

#[test]
fn settings_are_parsed_then_checked_by_the_policy() {
    assert_eq!(validate_settings::<NoHostNetwork>("{}"), Ok(()));
    assert_eq!(
        validate_settings::<NoHostNetwork>(r#"{"allowed": ["web"]}"#),
        Ok(())
    );
    assert_eq!(
        validate_settings::<NoHostNetwork>(r#"{"allowed": ["*"]}"#),
        Err("setting `allowed` may not contain `*`; list pod names".to_string())
    );
    assert_eq!(
        validate_settings::<NoHostNetwork>(r#"{"allowed": "web"}"#),
        Err("setting `allowed`: invalid type: string \"web\", expected a sequence".to_string())
    );
}

#[test]
fn verdicts_cross_the_boundary_as_json_text() {
    let verdict = validate::<NoHostNetwork>(
        &request(json!({"kind": "Pod", "spec": {"hostNetwork": true}})),
        "{}",
    );
    assert_eq!(verdict.warnings, Vec::<String>::new());
    assert_eq!(verdict.violations.len(), 1);
    let v = &verdict.violations[0];
    assert_eq!(v.rule, "host-network");
    assert_eq!(v.message, "the pod uses the host's network");
    assert_eq!(v.path, "/spec/hostNetwork");
    assert_eq!(v.found.as_deref(), Some("true"));
    assert_eq!(v.hint, None);
    assert!(matches!(&v.fixes[..], [
        wit::Edit::Remove(removed),
        wit::Edit::Set(wit::SetValue { path, value }),
    ] if removed == "/spec/hostNetwork" && path == "/spec/dnsPolicy" && value == "\"ClusterFirst\""));

    let verdict = validate::<NoHostNetwork>(
        &request(json!({"kind": "Pod", "spec": {"hostNetwork": "yes"}})),
        "{}",
    );
    let v = &verdict.violations[0];
    assert_eq!(v.rule, "invalid-field");
    assert_eq!(v.found.as_deref(), Some("\"yes\""));
    assert!(v.fixes.is_empty());
    assert!(v.hint.is_some());
}

#[test]
fn settings_reach_the_policy() {
    let verdict = validate::<NoHostNetwork>(
        &request(json!({"kind": "Pod", "spec": {"hostNetwork": true}})),
        r#"{"allowed": ["web"]}"#,
    );
    assert!(verdict.violations.is_empty());
    assert_eq!(verdict.warnings, ["host network allowed by configuration"]);
}

#[test]
fn unreadable_input_refuses_the_object_with_the_reason() {
    let verdict = run::<NoHostNetwork>("not json", "{}");
    assert_eq!(verdict.violations.len(), 1);
    let v = &verdict.violations[0];
    assert_eq!(v.rule, "invalid-field");
    assert_eq!(v.path, "");
    assert!(
        v.message.starts_with(
            "the policy could not read its input: the admission request is not valid JSON"
        ),
        "{}",
        v.message
    );

    let verdict = run::<NoHostNetwork>(&request(json!({})), r#"{"allowed": 1}"#);
    assert_eq!(
        verdict.violations[0].message,
        "the policy could not read its input: setting `allowed`: invalid type: integer `1`, expected a sequence"
    );
}

fn numbered(rule: &str, count: usize) -> impl Iterator<Item = PolicyViolation> + '_ {
    (0..count).map(move |i| {
        violation(rule)
            .at(format!("/spec/containers/{i}/securityContext/privileged"))
            .message(format!("container {i} runs privileged"))
    })
}

#[test]
fn large_verdicts_keep_the_first_violations_of_each_rule_and_count_the_rest() {
    let mut verdict = PolicyVerdict::default();
    verdict.extend(numbered("privileged", 800));
    verdict.extend(numbered("capabilities", 3));
    verdict.extend(numbered("seccomp", 800));
    verdict.warn("advice");
    let wire = to_wit_verdict(verdict);
    let kept: Vec<(&str, &str)> = wire
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str()))
        .collect();
    assert_eq!(kept.len(), 2 * MAX_VIOLATIONS_PER_RULE + 3);
    assert_eq!(
        kept[0],
        (
            "privileged",
            "/spec/containers/0/securityContext/privileged"
        )
    );
    assert_eq!(
        kept[MAX_VIOLATIONS_PER_RULE - 1],
        (
            "privileged",
            "/spec/containers/19/securityContext/privileged"
        )
    );
    assert_eq!(kept[MAX_VIOLATIONS_PER_RULE].0, "capabilities");
    assert_eq!(kept[MAX_VIOLATIONS_PER_RULE + 3].0, "seccomp");
    let omitted: Vec<(&str, u32)> = wire
        .omitted
        .iter()
        .map(|o| (o.rule.as_str(), o.count))
        .collect();
    assert_eq!(omitted, [("privileged", 780), ("seccomp", 780)]);
    assert_eq!(wire.warnings, ["advice"]);
}

#[test]
fn a_verdict_keeps_at_most_max_violations_and_max_bytes() {
    let mut verdict = PolicyVerdict::default();
    for rule in 0..10 {
        verdict.extend(numbered(&format!("rule-{rule}"), 15));
    }
    let wire = to_wit_verdict(verdict);
    assert_eq!(wire.violations.len(), MAX_VIOLATIONS);
    let omitted: u32 = wire.omitted.iter().map(|o| o.count).sum();
    assert_eq!(omitted as usize, 150 - MAX_VIOLATIONS);
    // Rules 0 to 5 fit whole, rule 6 in part; 7 to 9 are all left out.
    assert_eq!(wire.omitted[0].rule, "rule-6");
    assert_eq!(wire.omitted[0].count, 5);

    // A violation too large for the byte budget is counted, and smaller
    // ones after it are still kept.
    let huge = "x".repeat(MAX_VIOLATION_BYTES);
    let mut verdict = PolicyVerdict::default();
    verdict.push(violation("a").message("small"));
    verdict.push(violation("b").message(huge));
    verdict.push(violation("a").message("small again"));
    let wire = to_wit_verdict(verdict);
    let kept: Vec<&str> = wire.violations.iter().map(|v| v.message.as_str()).collect();
    assert_eq!(kept, ["small", "small again"]);
    assert_eq!(wire.omitted.len(), 1);
    assert_eq!(
        (wire.omitted[0].rule.as_str(), wire.omitted[0].count),
        ("b", 1)
    );
}
