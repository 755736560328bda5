//! Bounds that must hold whatever policies and ops write: words of any
//! length, with line breaks, in any number.

use counsel_contract::{FixSafety, Severity};
use counsel_edit::Edit;
use serde_json::json;

use super::message::{MAX_MESSAGE_BYTES, denial};
use super::warnings::{MAX_WARNING_CHARS, finding_warning, warnings};
use crate::config::{FailurePolicy, Mode};
use crate::engine::Failure;
use crate::explain::{Finding, ObjectRef, PolicyFailure, Report};

fn object() -> ObjectRef {
    ObjectRef {
        api_version: "v1".to_owned(),
        kind: "Pod".to_owned(),
        name: "web".to_owned(),
        namespace: Some("shop".to_owned()),
    }
}

/// A finding of `rule` at container `i`, its texts `words` long.
fn finding(rule: &str, i: usize, mode: Mode, words: usize) -> Finding {
    let long = |word: &str| vec![word; words].join(" ");
    Finding {
        policy: "p".to_owned(),
        rule: rule.to_owned(),
        mode,
        severity: Severity::High,
        title: long("title"),
        message: format!("container \"c{i}\" is\nwrong {}", long("because")),
        pointer: format!("/spec/containers/{i}/securityContext/privileged"),
        field: format!("spec.containers[{i}].securityContext.privileged"),
        found: Some(json!(long("x"))),
        why: long("reason"),
        docs: Some(long("docs")),
        contact: Some(long("ask")),
        owner: None,
        fixes: vec![Edit::Set {
            path: format!("/spec/containers/{i}/securityContext/privileged"),
            value: json!(false),
        }],
        fix_safety: FixSafety::Safe,
        fix_fields: vec![format!("spec.containers[{i}].securityContext.privileged")],
        hint: Some(long("hint")),
        exception: None,
    }
}

fn report(findings: Vec<Finding>, failures: usize) -> Report {
    Report {
        object: object(),
        findings,
        warnings: Vec::new(),
        failures: (0..failures)
            .map(|i| PolicyFailure {
                policy: format!("failing-{i}"),
                failure: Failure::Trap("x ".repeat(400)),
                failure_policy: FailurePolicy::Fail,
                contact: None,
            })
            .collect(),
        evaluations: Vec::new(),
    }
}

/// No line of `text` ends in an ellipsis that cuts a word.
fn cut_after_words(text: &str) {
    for line in text.lines() {
        if let Some(kept) = line.strip_suffix("...") {
            let last = kept.rsplit(' ').next().unwrap_or_default();
            assert!(
                [
                    "because", "reason", "docs", "ask", "hint", "title", "wrong", "x"
                ]
                .iter()
                .any(|word| last.ends_with(word))
                    || last.starts_with("\"x"),
                "cut inside a word: {line:?}"
            );
        }
    }
}

#[test]
fn a_denial_stays_within_4_kb_whatever_the_texts_and_counts() {
    for (rules, per_rule, words, failures) in [
        (1, 1, 2000, 0),
        (1, 500, 3, 0),
        (40, 3, 100, 0),
        (3, 2, 2000, 12),
        (0, 0, 0, 30),
        (2, 40, 30, 40),
    ] {
        let findings: Vec<Finding> = (0..rules)
            .flat_map(|rule| {
                (0..per_rule).map(move |i| finding(&format!("r{rule}"), i, Mode::Enforce, words))
            })
            .collect();
        let report = report(findings, failures);
        let denial = denial(&report);
        let case = format!("{rules} rules x {per_rule}, {words} words, {failures} failures");
        assert!(
            denial.message.len() <= MAX_MESSAGE_BYTES,
            "{case}: {} bytes",
            denial.message.len()
        );
        assert!(!denial.message.contains(['\t', '\r']), "{case}");
        assert_eq!(
            denial.shown.len() + denial.left_out,
            rules * per_rule,
            "{case}"
        );
        if rules > 0 {
            assert!(!denial.shown.is_empty(), "{case}: nothing shown");
        }
        cut_after_words(&denial.message);
    }
}

#[test]
fn a_rule_broken_many_times_says_its_reason_once() {
    let findings = (0..3).map(|i| finding("r", i, Mode::Enforce, 1)).collect();
    let message = denial(&report(findings, 0)).message;
    assert_eq!(
        message,
        "Pod shop/web has 3 violations of 1 rule:\n\n\
         [p/r] title: 3 violations\n  \
         container \"c0\" is wrong because\n    \
         field: spec.containers[0].securityContext.privileged (found: \"x\")\n    \
         fix: set spec.containers[0].securityContext.privileged: false\n  \
         container \"c1\" is wrong because\n    \
         field: spec.containers[1].securityContext.privileged (found: \"x\")\n    \
         fix: set spec.containers[1].securityContext.privileged: false\n  \
         container \"c2\" is wrong because\n    \
         field: spec.containers[2].securityContext.privileged (found: \"x\")\n    \
         fix: set spec.containers[2].securityContext.privileged: false\n  \
         why: reason\n  hint: hint\n  docs: docs\n  contact: ask\n\n\
         To see this report locally, pointing at the lines of your file: counsel check -f <file>"
    );
}

#[test]
fn every_warning_is_one_line_within_256_characters_naming_its_object() {
    for words in [1, 30, 300] {
        let findings: Vec<Finding> = (0..60)
            .map(|i| finding("r", i, Mode::Warn, words))
            .collect();
        let all = warnings(&report(findings, 0));
        let total: usize = all.iter().map(|w| w.chars().count()).sum();
        assert!(total <= 4096, "{words} words: {total} characters");
        for warning in &all {
            assert!(warning.chars().count() <= MAX_WARNING_CHARS, "{warning}");
            assert!(!warning.contains(char::is_control), "{warning:?}");
            assert!(
                warning.starts_with("[p/r] Pod shop/web: ")
                    || warning.starts_with("[counsel] Pod shop/web: "),
                "{warning}"
            );
        }
        cut_after_words(&all.join("\n"));
    }
}

#[test]
fn a_fix_too_long_to_show_points_at_counsel_check() {
    let mut long = finding("r", 0, Mode::Warn, 1);
    let path = "/metadata/annotations/".to_owned() + &"a".repeat(200);
    long.fixes = vec![Edit::Remove { path: path.clone() }];
    long.fix_fields = vec![format!("metadata.annotations.{}", "a".repeat(200))];
    assert_eq!(
        finding_warning(&long, "Pod shop/web"),
        "[p/r] Pod shop/web: container \"c0\" is wrong because (fix: counsel check --fix -f <file>)"
    );
    // Fixes sharing a parent are said once under it when in full they do
    // not fit.
    let mut two = finding("r", 0, Mode::Warn, 18);
    let parent = "spec.containers[0].securityContext";
    two.fixes = vec![
        Edit::Set {
            path: "/spec/containers/0/securityContext/privileged".to_owned(),
            value: json!(false),
        },
        Edit::Set {
            path: "/spec/containers/0/securityContext/allowPrivilegeEscalation".to_owned(),
            value: json!(false),
        },
    ];
    two.fix_fields = vec![
        format!("{parent}.privileged"),
        format!("{parent}.allowPrivilegeEscalation"),
    ];
    let warning = finding_warning(&two, "Pod shop/web");
    assert!(
        warning.ends_with(&format!(
            " (fix: in {parent}, set privileged: false; set allowPrivilegeEscalation: false)"
        )),
        "{warning}"
    );
}
