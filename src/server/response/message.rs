//! The denial message: what kubectl prints after
//! `admission webhook "..." denied the request: `.

use std::fmt::Write as _;

use crate::config::{FailurePolicy, Mode};
use crate::explain::{Finding, Report};

/// The last line of a denial: how to see the same report locally.
pub const CHECK_LOCALLY: &str =
    "To see this report locally, pointing at the lines of your file: counsel check -f <file>";

/// Longest found value shown in full; a found value can be a whole object.
const MAX_FOUND_CHARS: usize = 120;

/// The `status.message` of a denial: a summary line, one block per enforced
/// violation, one line per policy that failed under `failurePolicy: fail`,
/// and how to get the report locally.
pub fn denial_message(report: &Report) -> String {
    let enforced: Vec<&Finding> = report.findings_in(Mode::Enforce).collect();
    let failed: Vec<_> = report
        .failures
        .iter()
        .filter(|failure| failure.failure_policy == FailurePolicy::Fail)
        .collect();
    let mut message = if enforced.is_empty() {
        let policies = if failed.len() == 1 {
            "policy"
        } else {
            "policies"
        };
        format!(
            "{} could not be checked: {} {policies} failed:",
            report.object.describe(),
            failed.len()
        )
    } else {
        report.summary_line()
    };
    for finding in &enforced {
        message.push_str("\n\n");
        message.push_str(&finding_block(finding));
    }
    for failure in &failed {
        let _ = write!(message, "\n\n[{}] {}", failure.policy, failure.sentence());
    }
    if !enforced.is_empty() {
        message.push_str("\n\n");
        message.push_str(CHECK_LOCALLY);
    }
    message
}

/// One violation as a short block:
///
/// ```text
/// [policy/rule] message
///   field: path (found: value)
///   why: ...
///   fix: ...
///   docs: ...
///   contact: ...
/// ```
pub fn finding_block(finding: &Finding) -> String {
    let mut block = format!("{} {}", finding.label(), finding.message);
    let _ = write!(
        block,
        "\n  field: {} {}",
        finding.field,
        found_clause(finding)
    );
    if !finding.why.is_empty() {
        let _ = write!(block, "\n  why: {}", finding.why);
    }
    if let Some(fix) = finding.fix_summary() {
        let _ = write!(block, "\n  fix: {fix}");
    }
    if let Some(hint) = &finding.hint {
        let _ = write!(block, "\n  hint: {hint}");
    }
    if let Some(docs) = &finding.docs {
        let _ = write!(block, "\n  docs: {docs}");
    }
    if let Some(contact) = &finding.contact {
        let _ = write!(block, "\n  contact: {contact}");
    }
    block
}

/// `(found: true)`, or `(not set)` for a missing field.
pub fn found_clause(finding: &Finding) -> String {
    match &finding.found {
        Some(value) => format!("(found: {})", shorten(&value.to_string(), MAX_FOUND_CHARS)),
        None => "(not set)".to_owned(),
    }
}

/// `text` cut to at most `max` characters, ending in `...` when cut.
pub fn shorten(text: &str, max: usize) -> String {
    if text.char_indices().nth(max).is_none() {
        return text.to_owned();
    }
    let cut = text
        .char_indices()
        .nth(max.saturating_sub(3))
        .map_or(text.len(), |(at, _)| at);
    format!("{}...", &text[..cut])
}

#[cfg(test)]
mod tests {
    use super::shorten;

    #[test]
    fn shorten_counts_characters_not_bytes() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("abcdefg", 6), "abc...");
        assert_eq!(shorten("ééééééé", 6), "ééé...");
        assert_eq!(shorten("ab", 2), "ab");
        assert_eq!(shorten("abc", 2), "...");
    }
}
