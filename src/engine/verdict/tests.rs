use super::*;

fn metadata() -> Metadata<String> {
    let rule = |id: &str| Rule {
        id: id.into(),
        title: String::new(),
        why: String::new(),
        docs: None,
        severity: Severity::High,
        fix_safety: FixSafety::Safe,
    };
    Metadata {
        name: "p".into(),
        version: "1.0.0".into(),
        description: String::new(),
        kinds: Vec::new(),
        rules: vec![rule("a"), rule("b")],
    }
}

fn listed(rule: &str, message: &str) -> wit::Violation {
    wit::Violation {
        rule: rule.into(),
        message: message.into(),
        path: "/spec".into(),
        found: None,
        fixes: Vec::new(),
        hint: None,
        docs: Some("https://example.com/a".into()),
    }
}

fn omitted(rule: &str, count: u32) -> wit::Omitted {
    wit::Omitted {
        rule: rule.into(),
        count,
    }
}

#[test]
fn omitted_violations_are_counted_on_the_first_listed_or_stand_on_their_own() {
    let guest = wit::Verdict {
        violations: vec![listed("a", "first"), listed("a", "second")],
        // Repeated entries add up; a count of 0 changes nothing.
        omitted: vec![
            omitted("a", 700),
            omitted("b", 1),
            omitted("a", 80),
            omitted("b", 0),
        ],
        warnings: Vec::new(),
    };
    let checked = verdict(guest, &metadata(), 1 << 20).expect("a valid verdict");
    let lines: Vec<(&str, &str, &str)> = checked
        .violations
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str(), v.message.as_str()))
        .collect();
    assert_eq!(
        lines,
        [
            (
                "a",
                "/spec",
                "first (2 listed here, and 780 more violations of this rule)"
            ),
            ("a", "/spec", "second"),
            (
                "b",
                "",
                "1 violation of this rule, not listed to keep the answer short"
            ),
        ]
    );
    assert_eq!(
        checked.violations[0].docs.as_deref(),
        Some("https://example.com/a")
    );
    assert!(checked.violations[2].fixes.is_empty());
}

#[test]
fn an_omitted_rule_must_be_in_the_catalog() {
    let guest = wit::Verdict {
        violations: Vec::new(),
        omitted: vec![omitted("nope", 3)],
        warnings: Vec::new(),
    };
    assert_eq!(
        verdict(guest, &metadata(), 1 << 20),
        Err(Failure::UnknownRule("nope".into()))
    );
}
