//! The API server's `?timeout=` and how much of it a review may use.

use std::time::Duration;

/// The API server's default webhook timeout (`timeoutSeconds: 10`), used
/// when a request carries none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest timeout the API server allows a webhook.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(30);

/// The time a review may take so that its answer still arrives within the
/// caller's `timeout`: the timeout (default 10 s, at most 30 s) less a margin
/// of a tenth (between 50 ms and 1 s) for the network, the response and the
/// API server's own bookkeeping.
pub fn review_budget(timeout: Option<Duration>) -> Duration {
    let timeout = timeout.unwrap_or(DEFAULT_TIMEOUT).min(MAX_TIMEOUT);
    let margin = (timeout / 10).clamp(Duration::from_millis(50), Duration::from_secs(1));
    timeout.saturating_sub(margin).max(timeout / 2)
}

/// Parses a Go `time.Duration` string as the API server writes it
/// (`10s`, `1m30s`, `2.5s`, `500ms`, `1h`).
pub fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let invalid = |why: &str| {
        format!("{text:?} is not a duration ({why}); expected e.g. 10s, 500ms or 1m30s")
    };
    if text.is_empty() {
        return Err(invalid("empty"));
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = 0f64;
    let mut rest = text;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if number_len == 0 {
            return Err(invalid("a number must come before each unit"));
        }
        let number: f64 = rest[..number_len]
            .parse()
            .map_err(|_| invalid("bad number"))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err(invalid("missing unit")),
            _ => return Err(invalid("unknown unit")),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid("out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_the_api_server_sends() {
        for (text, expected) in [
            ("10s", Duration::from_secs(10)),
            ("30s", Duration::from_secs(30)),
            ("1m30s", Duration::from_secs(90)),
            ("2.5s", Duration::from_millis(2500)),
            ("500ms", Duration::from_millis(500)),
            ("0", Duration::ZERO),
        ] {
            assert_eq!(parse_go_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_garbage_with_a_message() {
        assert_eq!(
            parse_go_duration("10"),
            Err(
                "\"10\" is not a duration (missing unit); expected e.g. 10s, 500ms or 1m30s"
                    .to_owned()
            )
        );
        assert_eq!(
            parse_go_duration("s"),
            Err("\"s\" is not a duration (a number must come before each unit); expected e.g. 10s, 500ms or 1m30s".to_owned())
        );
        assert!(parse_go_duration("10parsecs").is_err());
        assert!(parse_go_duration("").is_err());
    }

    #[test]
    fn budget_stays_below_the_timeout() {
        assert_eq!(review_budget(None), Duration::from_secs(9));
        assert_eq!(
            review_budget(Some(Duration::from_secs(1))),
            Duration::from_millis(900)
        );
        assert_eq!(
            review_budget(Some(Duration::from_secs(60))),
            Duration::from_secs(29)
        );
        assert_eq!(
            review_budget(Some(Duration::from_millis(100))),
            Duration::from_millis(50)
        );
    }
}
