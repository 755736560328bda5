//! The one warning a finding an exception lets through gets: which
//! exception, who answers for it, when it expires (and, near then, what
//! happens after), and why it was granted; within one warning's limit.

use super::text::{chars, one_line, shorten};
use super::warnings::MAX_WARNING_CHARS;
use crate::explain::{Excepted, ExceptionStatus, Finding};

/// `[policy/rule] Deployment shop/web: excepted by CounselException
/// shop/legacy-root (owner: team-a; expires in 12 days): <reason>`; the
/// reason gives way when it is long.
pub fn excepted_warning(finding: &Finding, excepted: &Excepted, subject: &str) -> String {
    let when = match excepted.status {
        ExceptionStatus::ExpiresSoon { .. } => format!("{}; {}", excepted.when(), excepted.then()),
        _ => excepted.when(),
    };
    let head = one_line(&format!(
        "{} {subject}: excepted by {} (owner: {}; {when})",
        finding.label(),
        excepted.exception,
        excepted.owner,
    ));
    let room = MAX_WARNING_CHARS.saturating_sub(chars(&head) + 2);
    if room < 10 {
        return shorten(&head, MAX_WARNING_CHARS);
    }
    format!("{head}: {}", shorten(&one_line(&excepted.reason), room))
}
