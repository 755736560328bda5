use super::*;

#[test]
fn builder_sets_every_field() {
    const RULE: Rule = Rule::new("x", "X must hold", "Because.")
        .docs("https://example.com/x")
        .severity(Severity::Low)
        .fix_safety(FixSafety::Safe);
    assert_eq!(
        RULE,
        Rule {
            id: "x",
            title: "X must hold",
            why: "Because.",
            docs: Some("https://example.com/x"),
            severity: Severity::Low,
            fix_safety: FixSafety::Safe,
        }
    );
    assert_eq!(Rule::new("y", "t", "w").severity, Severity::Medium);
    assert_eq!(Rule::new("y", "t", "w").fix_safety, FixSafety::Suggestion);
    assert_eq!(Rule::new("y", "t", "w").docs, None);
}

#[test]
fn severities_order_from_low_to_critical() {
    assert!(Severity::Low < Severity::Medium);
    assert!(Severity::Medium < Severity::High);
    assert!(Severity::High < Severity::Critical);
}

#[test]
fn builtin_rule_is_appended_once() {
    let metadata = Metadata {
        name: "p".into(),
        version: "1.0.0".into(),
        description: "d".into(),
        kinds: vec![],
        rules: vec![Rule::new("a", "t", "w")],
    };
    let full = metadata.clone().with_builtin_rules();
    let ids: Vec<_> = full.rules.iter().map(|r| r.id).collect();
    assert_eq!(ids, ["a", "invalid-field"]);
    assert_eq!(full.clone().with_builtin_rules(), full);
    assert_eq!(metadata.rule("a").map(|r| r.title), Some("t"));
    assert_eq!(metadata.rule("b"), None);
}
