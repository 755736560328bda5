//! The rollout report for the terminal: the plan and totals, what each rule
//! would deny, then each owner's objects with their findings and fixes.
//! Colour only when asked (a terminal), in `counsel check`'s colours.

use std::fmt::Write;

use counsel::rollout::{Effect, Judged, Rollout};

use super::super::check::pretty::Style;
use super::text;

/// The whole report.
pub fn render(rollout: &Rollout, notes: &[String], color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    for note in notes {
        let _ = writeln!(out, "{}: {note}", style.paint("1;36", "note"));
    }
    let _ = writeln!(out, "{}", text::plan(rollout));
    for line in text::totals(rollout) {
        let _ = writeln!(out, "{line}");
    }
    let rules = rollout.rules();
    if !rules.is_empty() {
        let _ = writeln!(out, "\n{}", style.paint("1", "By rule:"));
    }
    for rule in &rules {
        let label = format!("{}/{}", rule.policy, rule.rule);
        let _ = writeln!(
            out,
            "  {}: {}",
            style.paint("1", &label),
            text::rule_counts(rule)
        );
        let _ = writeln!(out, "    {}", rule.title);
        if rule.denied > 0 {
            let _ = writeln!(
                out,
                "    namespaces: {}",
                text::namespaces(&rule.namespaces)
            );
            let _ = writeln!(out, "    owners: {}", text::owners(&rule.owners));
        }
    }
    for part in rollout.owners() {
        let _ = writeln!(
            out,
            "\n{}: {}",
            style.paint("1", text::owner(part.owner)),
            text::count(part.judgements.len(), "object")
        );
        for judgement in &part.judgements {
            let _ = writeln!(
                out,
                "  {}: {}",
                judgement.object.describe(),
                text::object_state(judgement)
            );
            for judged in judgement.reported_findings() {
                finding(&mut out, &style, judged);
            }
            for failure in judgement.failures.iter().filter(|f| f.denies) {
                let _ = writeln!(
                    out,
                    "    {} policy {:?} failed (failurePolicy: fail): {}",
                    style.paint("1;31", "✗"),
                    failure.policy,
                    failure.message
                );
            }
        }
    }
    out
}

fn finding(out: &mut String, style: &Style, judged: &Judged) {
    let f = &judged.finding;
    if judged.planned == Effect::Excepted {
        let story = f.excepted_by().map(|e| e.sentence()).unwrap_or_default();
        let _ = writeln!(
            out,
            "    {} [{}/{}] {}: {story}",
            style.paint("1;33", "~"),
            f.policy,
            f.rule,
            f.field
        );
        return;
    }
    let closed = if judged.closed_by_fix {
        "; counsel check --fix closes it"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "    {} [{}/{}] {}: {} ({}{closed})",
        style.paint("1;31", "✗"),
        f.policy,
        f.rule,
        f.field,
        f.message,
        text::today(judged)
    );
    for change in &judged.fixes {
        let _ = writeln!(
            out,
            "      {}: {}",
            text::fix_label(judged),
            text::change(change)
        );
    }
    if judged.fixes.is_empty()
        && let Some(hint) = &f.hint
    {
        let _ = writeln!(out, "      hint: {hint}");
    }
}
