//! A finding covered by an exception: which one, and how that stands at the
//! time of the review. The wording here is shared by every renderer.

use std::time::Duration;

use crate::config::Mode;

/// The exception that covers a finding, as the finding shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Excepted {
    /// `CounselException shop/legacy-root` or `ClusterCounselException legacy-root`.
    pub exception: String,
    /// The exception's name (`metadata.name`).
    pub name: String,
    /// Its namespace, for a `CounselException`.
    pub namespace: Option<String>,
    /// Why it was granted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// When it expires (RFC 3339, UTC).
    pub expires: String,
    /// A link to the request or discussion.
    pub ticket: Option<String>,
    /// How it stands at the time of the review.
    pub status: Status,
    /// What the finding does without the exception.
    pub mode: Mode,
}

/// How an exception stands at the time of a review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// It applies, and expires in `left`.
    Live {
        /// Time left.
        left: Duration,
    },
    /// It applies, and expires within the configured warning time.
    ExpiresSoon {
        /// Time left.
        left: Duration,
    },
    /// It expired `ago` and no longer applies.
    Expired {
        /// Time since it expired.
        ago: Duration,
    },
}

impl Excepted {
    /// Whether the exception lets the finding through.
    pub fn is_live(&self) -> bool {
        !matches!(self.status, Status::Expired { .. })
    }

    /// `expires in 12 days`, `expires soon, in 3 days`, `expired 2 days ago`.
    pub fn when(&self) -> String {
        match self.status {
            Status::Live { left } => format!("expires in {}", span(left)),
            Status::ExpiresSoon { left } => format!("expires soon, in {}", span(left)),
            Status::Expired { ago } => format!("expired {} ago", span(ago)),
        }
    }

    /// What the finding will do once the exception has expired:
    /// `then this is denied`.
    pub fn then(&self) -> &'static str {
        match self.mode {
            Mode::Enforce => "then this is denied",
            Mode::Fix => "then Counsel fixes this",
            Mode::Warn => "then this is a warning",
            Mode::Audit => "then this is only recorded",
        }
    }

    /// The whole story in one line, for every renderer but kubectl's
    /// warnings (which must be shorter): `excepted by CounselException
    /// shop/legacy-root (owner: team-a; expires in 12 days,
    /// 2026-12-17T00:00:00Z): <reason>`; for an expired exception, why it
    /// no longer counts.
    pub fn sentence(&self) -> String {
        match self.status {
            Status::Live { .. } => format!(
                "excepted by {} (owner: {}; {}, {}): {}",
                self.exception,
                self.owner,
                self.when(),
                self.expires,
                self.reason
            ),
            Status::ExpiresSoon { .. } => format!(
                "excepted by {} (owner: {}; {}, {}; {}): {}",
                self.exception,
                self.owner,
                self.when(),
                self.expires,
                self.then(),
                self.reason
            ),
            Status::Expired { .. } => format!(
                "the exception {} (owner: {}) {}, at {}, so this counts again",
                self.exception,
                self.owner,
                self.when(),
                self.expires
            ),
        }
    }
}

/// `12 days`, `1 day`, `5 hours`, `1 minute`: the largest unit that fits
/// whole, rounded (an exception granted for 30 days expires "in 30 days"
/// for its first half day).
fn span(duration: Duration) -> String {
    let seconds = duration.as_secs();
    let rounded = |unit: u64| (seconds + unit / 2) / unit;
    let (count, unit) = match seconds {
        s if s >= 86_400 => (rounded(86_400), "day"),
        s if s >= 3_600 => (rounded(3_600), "hour"),
        s if s >= 60 => (rounded(60), "minute"),
        s => (s, "second"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {unit}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_name_the_largest_whole_unit() {
        assert_eq!(span(Duration::from_secs(12 * 86_400 + 3_600)), "12 days");
        assert_eq!(span(Duration::from_secs(86_400)), "1 day");
        assert_eq!(span(Duration::from_secs(30 * 86_400 - 5)), "30 days");
        assert_eq!(span(Duration::from_secs(5 * 3_600 + 59)), "5 hours");
        assert_eq!(span(Duration::from_secs(61)), "1 minute");
        assert_eq!(span(Duration::from_secs(0)), "0 seconds");
    }
}
