//! The rollout report as Markdown, to paste into a message or a ticket: the
//! plan and totals, a table of rules, then one section per owner (what to
//! send each team). Within a size limit (`counsel check`'s): objects that
//! do not fit are left out and counted at the end.

use std::fmt::Write;

use counsel::rollout::{Effect, Judged, Judgement, Rollout};

use super::super::check::markdown::inline;
use super::text;

pub use super::super::check::markdown::LIMIT;

/// Room kept for the closing line.
const CLOSING: usize = 300;

/// The whole report, at most `limit` bytes (the plan, totals and rules
/// table always whole).
pub fn render(rollout: &Rollout, notes: &[String], limit: usize) -> String {
    let mut out = String::from("## Counsel rollout report\n\n");
    for note in notes {
        let _ = writeln!(out, "> Note: {}\n", inline(note));
    }
    let _ = writeln!(out, "{}\n", inline(&text::plan(rollout)));
    for line in text::totals(rollout) {
        let _ = writeln!(out, "{}\n", inline(&line));
    }
    let rules = rollout.rules();
    if !rules.is_empty() {
        out.push_str("| Rule | Would be denied | Today | Closed by `counsel check --fix` | Excepted | Namespaces | Owners |\n");
        out.push_str("|---|---:|---:|---:|---:|---|---|\n");
        for rule in &rules {
            let _ = writeln!(
                out,
                "| `{}/{}` | {} | {} | {} | {} | {} | {} |",
                rule.policy,
                rule.rule,
                rule.denied,
                rule.denied_now,
                rule.closed_by_fix,
                rule.excepted,
                inline(&text::namespaces(&rule.namespaces)),
                inline(&text::owners(&rule.owners)),
            );
        }
        out.push('\n');
    }
    let parts = rollout.owners();
    let mut left_out = 0;
    for part in &parts {
        let heading = format!(
            "### {}: {}\n\n",
            inline(text::owner(part.owner)),
            text::count(part.judgements.len(), "object")
        );
        let mut heading = Some(heading);
        for judgement in &part.judgements {
            let block = object(judgement);
            let needed = block.len() + heading.as_ref().map_or(0, String::len);
            if left_out > 0 || out.len() + needed + CLOSING > limit {
                left_out += 1;
                continue;
            }
            if let Some(heading) = heading.take() {
                out.push_str(&heading);
            }
            out.push_str(&block);
        }
        if heading.is_none() {
            out.push('\n');
        }
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "_{} left out to keep this within {limit} characters; `counsel audit --output json` lists them all._",
            text::count(left_out, "more object")
        );
    }
    out
}

/// One object and what its owner should know of it.
fn object(judgement: &Judgement) -> String {
    let mut out = format!(
        "- **{}**: {}\n",
        inline(&judgement.object.describe()),
        inline(&text::object_state(judgement))
    );
    for judged in judgement.reported_findings() {
        finding(&mut out, judged);
    }
    for failure in judgement.failures.iter().filter(|f| f.denies) {
        let _ = writeln!(
            out,
            "  - policy `{}` failed (failurePolicy: fail): {}",
            failure.policy,
            inline(&failure.message)
        );
    }
    out
}

fn finding(out: &mut String, judged: &Judged) {
    let f = &judged.finding;
    let label = format!("`{}/{}` at `{}`", f.policy, f.rule, f.field);
    if judged.planned == Effect::Excepted {
        let story = f.excepted_by().map(|e| e.sentence()).unwrap_or_default();
        let _ = writeln!(out, "  - {label}: {}", inline(&story));
        return;
    }
    let closed = if judged.closed_by_fix {
        "; `counsel check --fix` closes it"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "  - {label}: {} ({}{closed})",
        inline(&f.message),
        text::today(judged)
    );
    for change in &judged.fixes {
        let _ = writeln!(
            out,
            "    - {}: `{}`",
            text::fix_label(judged),
            text::change(change).replace('`', "'")
        );
    }
    if judged.fixes.is_empty()
        && let Some(hint) = &f.hint
    {
        let _ = writeln!(out, "    - hint: {}", inline(hint));
    }
}
