//! The `warnings` of a response, within Kubernetes' limits.
//!
//! The API server passes warnings to the client as HTTP `Warning` headers
//! and truncates what is too long: each warning should be at most 120
//! characters and must not exceed 256, and all of them together must stay
//! within 4096 bytes. kubectl prints them as `Warning: ...` lines. So the
//! most severe come first, each is shortened on its own terms (the message
//! gives way before the label and the fix), and when they do not all fit, a
//! last warning says how many were left out and how to see them.

use counsel_edit::Edit;

use super::message::shorten;
use crate::config::{FailurePolicy, Mode};
use crate::engine::FixSafety;
use crate::explain::{Finding, Report};
use crate::server::mutate::Mutation;

/// Most characters in one warning.
pub const MAX_WARNING_CHARS: usize = 256;
/// Most bytes of all warnings together.
pub const MAX_TOTAL_BYTES: usize = 4096;
/// A message is not shortened below this many characters to make room for
/// the fix: below it, the whole warning is cut instead.
const MIN_MESSAGE_CHARS: usize = 40;

/// Every warning of a report, most severe first, within the limits: warn-mode
/// violations by descending severity, then policies that failed under
/// `failurePolicy: ignore`, then the policies' own advice.
pub fn warnings(report: &Report) -> Vec<String> {
    cap(report_warnings(report))
}

/// The warnings of `/mutate`'s answer: one per applied fix, saying what it
/// changed and why, then fixes that disagree or could not be applied, then
/// the warnings of the report answered with; all within the limits.
pub fn mutation_warnings(mutation: &Mutation) -> Vec<String> {
    let mut all: Vec<String> = mutation.applied.iter().map(applied_warning).collect();
    all.extend(mutation.conflicts.iter().map(|conflict| {
        shorten(
            &format!("[counsel] not fixed: {}", conflict.brief()),
            MAX_WARNING_CHARS,
        )
    }));
    if let Some(why) = &mutation.not_applied {
        all.push(shorten(
            &format!("[counsel] fixes not applied: {why}"),
            MAX_WARNING_CHARS,
        ));
    }
    all.extend(report_warnings(&mutation.report));
    cap(all)
}

/// `[policy/rule] set spec...privileged=false: <why, its first sentence>`.
pub fn applied_warning(finding: &Finding) -> String {
    let edits: Vec<String> = finding
        .fixes_with_fields()
        .map(|(edit, field)| match edit {
            Edit::Set { value, .. } => format!("set {field}={value}"),
            Edit::Remove { .. } => format!("remove {field}"),
        })
        .collect();
    let head = format!("{} {}", finding.label(), edits.join(", "));
    // The hint (what to do if the change does not suit the workload) is
    // what enforce mode shows too; it goes before the reason.
    let why = finding
        .why
        .split_once(". ")
        .map_or(finding.why.as_str(), |(first, _)| first)
        .trim_end_matches('.');
    let why = match &finding.hint {
        Some(hint) if why.is_empty() => format!("hint: {hint}"),
        Some(hint) => format!("hint: {hint} {why}"),
        None => why.to_owned(),
    };
    if why.is_empty() {
        return shorten(&head, MAX_WARNING_CHARS);
    }
    let room = MAX_WARNING_CHARS.saturating_sub(head.chars().count() + 2);
    if room >= MIN_MESSAGE_CHARS {
        format!("{head}: {}", shorten(&why, room))
    } else {
        shorten(&head, MAX_WARNING_CHARS)
    }
}

/// Every warning of a report, uncapped.
fn report_warnings(report: &Report) -> Vec<String> {
    // Fix-mode findings are warnings wherever their fix is not applied (by
    // `/validate`, or when a fix-mode violation has no machine fix).
    let mut findings: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|finding| matches!(finding.mode, Mode::Warn | Mode::Fix))
        .collect();
    // Stable: equal severities keep the report's order.
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    let mut all: Vec<String> = findings
        .iter()
        .map(|finding| finding_warning(finding))
        .collect();
    all.extend(
        report
            .failures
            .iter()
            .filter(|failure| failure.failure_policy == FailurePolicy::Ignore)
            .map(|failure| {
                shorten(
                    &format!("[{}] {}", failure.policy, failure.sentence()),
                    MAX_WARNING_CHARS,
                )
            }),
    );
    all.extend(report.warnings.iter().map(|advice| {
        shorten(
            &format!("[{}] {}", advice.policy, advice.message),
            MAX_WARNING_CHARS,
        )
    }));
    all
}

/// `[policy/rule] message (fix: ...)`, at most 256 characters.
pub fn finding_warning(finding: &Finding) -> String {
    let label = finding.label();
    let tail = match (finding.fix_summary(), &finding.hint) {
        // In fix mode a suggestion is not applied by the webhook: say so,
        // and give the hint (what it takes), as enforce mode does.
        (Some(fix), Some(hint))
            if finding.mode == Mode::Fix && finding.fix_safety == FixSafety::Suggestion =>
        {
            format!(" (suggested fix, not applied: {fix}; hint: {hint})")
        }
        (Some(fix), _) => format!(" (fix: {fix})"),
        (None, Some(hint)) => format!(" (hint: {hint})"),
        (None, None) => String::new(),
    };
    let full = format!("{label} {}{tail}", finding.message);
    if full.chars().count() <= MAX_WARNING_CHARS {
        return full;
    }
    let room = MAX_WARNING_CHARS.saturating_sub(label.chars().count() + 1 + tail.chars().count());
    if room >= MIN_MESSAGE_CHARS {
        format!("{label} {}{tail}", shorten(&finding.message, room))
    } else {
        shorten(&full, MAX_WARNING_CHARS)
    }
}

/// The line that replaces warnings that did not fit.
pub fn left_out_line(count: usize) -> String {
    let noun = if count == 1 { "warning" } else { "warnings" };
    format!(
        "{count} more {noun} left out (Kubernetes limits warnings to 4096 bytes); to see them all: counsel check -f <file>"
    )
}

/// Keeps warnings in order while they fit in [`MAX_TOTAL_BYTES`], leaving
/// room for the left-out line when one is needed.
fn cap(all: Vec<String>) -> Vec<String> {
    let total: usize = all.iter().map(String::len).sum();
    if total <= MAX_TOTAL_BYTES {
        return all;
    }
    // The left-out line is longest when its count has the most digits.
    let reserve = left_out_line(all.len()).len();
    let mut kept = Vec::new();
    let mut used = 0;
    for warning in &all {
        if used + warning.len() + reserve > MAX_TOTAL_BYTES {
            break;
        }
        used += warning.len();
        kept.push(warning.clone());
    }
    let left_out = all.len() - kept.len();
    kept.push(left_out_line(left_out));
    kept
}
