//! The `warnings` of a response, within Kubernetes' limits.
//!
//! The API server passes warnings to the client as HTTP `Warning` headers
//! and truncates what is too long: each warning should be at most 120
//! characters and must not exceed 256, and all of them together must stay
//! within 4096 bytes. kubectl prints them as `Warning: ...` lines. So the
//! most severe come first, each is shortened on its own terms (the message
//! gives way before the label and the fix), and when they do not all fit, a
//! last warning says how many were left out and how to see them.

use serde_json::Value;

use super::message::shorten;
use crate::config::{FailurePolicy, Mode};
use crate::explain::{Finding, Report};

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
pub fn warnings(report: &Report, subject: Option<&Value>) -> Vec<String> {
    let mut findings: Vec<&Finding> = report.findings_in(Mode::Warn).collect();
    // Stable: equal severities keep the report's order.
    findings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    let mut all: Vec<String> = findings
        .iter()
        .map(|finding| finding_warning(finding, subject))
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
    cap(all)
}

/// `[policy/rule] message (fix: ...)`, at most 256 characters.
pub fn finding_warning(finding: &Finding, subject: Option<&Value>) -> String {
    let label = finding.label();
    let tail = match finding.fix_summary(subject) {
        Some(fix) => format!(" (fix: {fix})"),
        None => match &finding.hint {
            Some(hint) => format!(" (hint: {hint})"),
            None => String::new(),
        },
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
