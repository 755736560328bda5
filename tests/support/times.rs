//! Times as exception objects write them.

use std::time::{Duration, SystemTime};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// RFC 3339 (UTC, to the second), `offset` seconds from now (negative: in
/// the past).
pub fn from_now(offset: i64) -> String {
    let now = SystemTime::now();
    let time = if offset >= 0 {
        now + Duration::from_secs(offset.unsigned_abs())
    } else {
        now - Duration::from_secs(offset.unsigned_abs())
    };
    OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .expect("a time")
        .format(&Rfc3339)
        .expect("formats")
}
