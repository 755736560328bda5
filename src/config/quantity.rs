//! The two kinds of quantity a configuration holds: durations (`250ms`,
//! `2s`) and sizes in the Kubernetes style (`64Mi`, `1Gi`, `1000000`).

use std::time::Duration;

/// Parses `<number><unit>` with unit `d`, `h`, `m` or `s`: a lifetime.
pub fn lifetime(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let hint = "write e.g. \"90d\", \"36h\" or \"30m\"";
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration; {hint}"))?;
    let seconds = match unit {
        "d" => 24 * 60 * 60,
        "h" => 60 * 60,
        "m" => 60,
        "s" => 1,
        _ => return Err(format!("{text:?} has no known unit; {hint}")),
    };
    if number == 0 {
        return Err(format!("{text:?} is no time at all; {hint}"));
    }
    Ok(Duration::from_secs(number.saturating_mul(seconds)))
}

/// Parses `<number><unit>` with unit `ms`, `s` or `m`.
pub fn duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration; write e.g. \"250ms\", \"2s\" or \"1m\"")
    })?;
    let duration = match unit {
        "ms" => Duration::from_millis(number),
        "s" => Duration::from_secs(number),
        "m" => Duration::from_secs(number.saturating_mul(60)),
        _ => {
            return Err(format!(
                "{text:?} has no known unit; write e.g. \"250ms\", \"2s\" or \"1m\""
            ));
        }
    };
    if duration.is_zero() {
        return Err("a duration of zero leaves the policy no time to run".into());
    }
    Ok(duration)
}

/// Parses a byte size: a plain number of bytes, or with a suffix `Ki`, `Mi`,
/// `Gi` (powers of 1024) or `k`, `M`, `G` (powers of 1000).
pub fn bytes(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size; write e.g. \"64Mi\" or \"1Gi\""))?;
    let factor: u64 = match unit {
        "" => 1,
        "Ki" => 1 << 10,
        "Mi" => 1 << 20,
        "Gi" => 1 << 30,
        "k" => 1_000,
        "M" => 1_000_000,
        "G" => 1_000_000_000,
        _ => {
            return Err(format!(
                "{text:?} has no known unit; write e.g. \"64Mi\" or \"1Gi\""
            ));
        }
    };
    number
        .checked_mul(factor)
        .filter(|&bytes| bytes > 0)
        .ok_or_else(|| format!("{text:?} is not a usable size"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(
            duration("2 hours"),
            Err("\"2 hours\" has no known unit; write e.g. \"250ms\", \"2s\" or \"1m\"".into())
        );
        assert!(duration("0s").is_err());
        assert!(duration("ms").is_err());
    }

    #[test]
    fn sizes() {
        assert_eq!(bytes("64Mi"), Ok(64 << 20));
        assert_eq!(bytes("1Gi"), Ok(1 << 30));
        assert_eq!(bytes("1000"), Ok(1000));
        assert_eq!(bytes("2M"), Ok(2_000_000));
        assert_eq!(
            bytes("64MB"),
            Err("\"64MB\" has no known unit; write e.g. \"64Mi\" or \"1Gi\"".into())
        );
        assert!(bytes("99999999999999999999Gi").is_err());
    }
}
