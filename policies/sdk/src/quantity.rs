//! Kubernetes resource quantities (`500m`, `128Mi`, `1.5`, `2e3`), parsed
//! as the API server parses them and compared exactly.
//!
//! A [`Quantity`] is kept as a whole number of billionths (`n`, the finest
//! unit Kubernetes keeps), so `1.5Gi == 1536Mi` and `0.1 + 0.2 == 0.3`:
//! no floating point anywhere. As in Kubernetes, a value finer than a
//! billionth is rounded up to the next one (away from zero), and a binary
//! quantity (`Ki` .. `Ei`) is capped at 2^63 - 1.
//!
//! ```
//! use counsel_policy::Quantity;
//!
//! let limit: Quantity = "1.5Gi".parse().unwrap();
//! assert_eq!(limit, "1536Mi".parse().unwrap());
//! assert!("500m".parse::<Quantity>().unwrap() < Quantity::from_units(1));
//! assert_eq!("2e3".parse::<Quantity>().unwrap(), "2k".parse().unwrap());
//! assert_eq!(Quantity::parse("250m").unwrap().millis(), 250);
//! let err = "1x".parse::<Quantity>().unwrap_err();
//! assert_eq!(err.to_string(), r#""1x" is not a quantity: it must be a number and an optional suffix (500m, 128Mi, 1.5, 2e3)"#);
//! ```

use std::fmt;
use std::str::FromStr;

/// Billionths in one unit.
const NANOS: i128 = 1_000_000_000;

/// The largest binary quantity Kubernetes keeps (2^63 - 1), in billionths.
const MAX_BINARY: i128 = i64::MAX as i128 * NANOS;

/// The most significant digits a quantity may have here (Kubernetes has no
/// limit; beyond this no workload's number is meaningful).
const MAX_DIGITS: usize = 36;

/// A Kubernetes resource quantity, exact, in billionths of a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Quantity {
    nanos: i128,
}

/// A text that is not a quantity.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Not a number followed by a suffix.
    #[error(
        "{0:?} is not a quantity: it must be a number and an optional suffix (500m, 128Mi, 1.5, 2e3)"
    )]
    Format(String),
    /// A suffix Kubernetes does not know.
    #[error(
        "{text:?} is not a quantity: its suffix {suffix:?} is none of n, u, m, k, M, G, T, P, E, \
         Ki, Mi, Gi, Ti, Pi, Ei or an exponent (e3)"
    )]
    Suffix {
        /// The whole text.
        text: String,
        /// The suffix.
        suffix: String,
    },
    /// Too large (or too precise) to be kept exactly.
    #[error("{0:?} is out of the range of quantities this policy compares exactly")]
    Range(String),
}

impl Quantity {
    /// Zero.
    pub const ZERO: Quantity = Quantity { nanos: 0 };

    /// Parses `text` as the API server does (`resource.ParseQuantity`).
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        parse(text)
    }

    /// `units` whole units (cores, bytes).
    pub const fn from_units(units: i64) -> Quantity {
        Quantity {
            nanos: units as i128 * NANOS,
        }
    }

    /// `millis` thousandths of a unit (`500` is `500m`).
    pub const fn from_millis(millis: i64) -> Quantity {
        Quantity {
            nanos: millis as i128 * 1_000_000,
        }
    }

    /// `nanos` billionths of a unit.
    pub const fn from_nanos(nanos: i128) -> Quantity {
        Quantity { nanos }
    }

    /// The quantity in billionths of a unit.
    pub const fn nanos(self) -> i128 {
        self.nanos
    }

    /// The quantity in thousandths, rounded up as Kubernetes'
    /// `MilliValue` does (saturating at the ends of `i64`).
    pub fn millis(self) -> i64 {
        saturate(ceil_div(self.nanos, 1_000_000))
    }

    /// The quantity in whole units, rounded up as Kubernetes' `Value` does
    /// (saturating at the ends of `i64`).
    pub fn units(self) -> i64 {
        saturate(ceil_div(self.nanos, NANOS))
    }

    /// Whether it is a whole number of units.
    pub fn is_integer(self) -> bool {
        self.nanos % NANOS == 0
    }

    /// `-1`, `0` or `1`.
    pub fn signum(self) -> i32 {
        self.nanos.signum() as i32
    }

    /// The sum, unless it overflows.
    pub fn checked_add(self, other: Quantity) -> Option<Quantity> {
        self.nanos
            .checked_add(other.nanos)
            .map(Quantity::from_nanos)
    }

    /// The difference, unless it overflows.
    pub fn checked_sub(self, other: Quantity) -> Option<Quantity> {
        self.nanos
            .checked_sub(other.nanos)
            .map(Quantity::from_nanos)
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(text: &str) -> Result<Quantity, QuantityError> {
        parse(text)
    }
}

/// The value in plain decimal units (`0.5`, `1536`, `-0.000000001`), which
/// Kubernetes reads back as the same quantity.
impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.nanos < 0 { "-" } else { "" };
        let magnitude = self.nanos.unsigned_abs();
        let (whole, fraction) = (magnitude / NANOS as u128, magnitude % NANOS as u128);
        if fraction == 0 {
            return write!(f, "{sign}{whole}");
        }
        let fraction = format!("{fraction:09}");
        write!(f, "{sign}{whole}.{}", fraction.trim_end_matches('0'))
    }
}

fn ceil_div(value: i128, by: i128) -> i128 {
    let quotient = value / by;
    if value % by > 0 {
        quotient + 1
    } else {
        quotient
    }
}

fn saturate(value: i128) -> i64 {
    i64::try_from(value).unwrap_or(if value < 0 { i64::MIN } else { i64::MAX })
}

/// The parts of a quantity's text, split as Kubernetes' scanner
/// (`parseQuantityString`) splits them: sign, whole digits (leading zeros
/// dropped), fraction digits, suffix. Its quirks are kept, since the API
/// server accepts what it accepts: a lone sign or `.` is zero, and a number
/// may be left out before a suffix (`Mi` is zero).
struct Parts<'t> {
    negative: bool,
    whole: &'t str,
    fraction: &'t str,
    suffix: &'t str,
}

fn split(text: &str) -> Option<Parts<'_>> {
    let (negative, rest) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let rest = rest.trim_start_matches('0');
    let digits = |s: &str| s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (whole, rest) = rest.split_at(digits(rest));
    let (fraction, rest) = match rest.strip_prefix('.') {
        Some(after) => after.split_at(digits(after)),
        None => ("", rest),
    };
    // The suffix: letters of the suffix alphabet, then an optional sign and
    // digits (an exponent), and nothing else.
    let letters = rest
        .find(|c: char| !"eEinumkKMGTP".contains(c))
        .unwrap_or(rest.len());
    let tail = &rest[letters..];
    let tail = tail.strip_prefix(['+', '-']).unwrap_or(tail);
    if !tail.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Parts {
        negative,
        whole,
        fraction,
        suffix: rest,
    })
}

/// The power of ten and the power of two a suffix stands for.
fn scale(suffix: &str) -> Option<(i64, u32)> {
    Some(match suffix {
        "" => (0, 0),
        "n" => (-9, 0),
        "u" => (-6, 0),
        "m" => (-3, 0),
        "k" => (3, 0),
        "M" => (6, 0),
        "G" => (9, 0),
        "T" => (12, 0),
        "P" => (15, 0),
        "E" => (18, 0),
        "Ki" => (0, 10),
        "Mi" => (0, 20),
        "Gi" => (0, 30),
        "Ti" => (0, 40),
        "Pi" => (0, 50),
        "Ei" => (0, 60),
        exponent if exponent.len() > 1 && exponent.starts_with(['e', 'E']) => {
            (i64::from(exponent[1..].parse::<i32>().ok()?), 0)
        }
        _ => return None,
    })
}

fn parse(text: &str) -> Result<Quantity, QuantityError> {
    let parts = split(text)
        .filter(|_| !text.is_empty())
        .ok_or_else(|| QuantityError::Format(text.to_owned()))?;
    let (power10, power2) = scale(parts.suffix).ok_or_else(|| QuantityError::Suffix {
        text: text.to_owned(),
        suffix: parts.suffix.to_owned(),
    })?;
    let range = || QuantityError::Range(text.to_owned());
    // digits × 10^(power10 + 9 - fraction digits) × 2^power2 billionths,
    // rounded up to a whole billionth.
    let fraction = parts.fraction.trim_end_matches('0');
    let digits = format!("{}{fraction}", parts.whole);
    let digits = digits.trim_start_matches('0');
    if digits.len() > MAX_DIGITS {
        return Err(range());
    }
    let mantissa: i128 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| range())?
    };
    let mantissa = mantissa.checked_mul(1 << power2).ok_or_else(range)?;
    let shift = power10 + 9 - fraction.len() as i64;
    let mut nanos = if shift >= 0 {
        u32::try_from(shift)
            .ok()
            .and_then(|shift| 10i128.checked_pow(shift))
            .and_then(|factor| mantissa.checked_mul(factor))
            .ok_or_else(range)?
    } else {
        match u32::try_from(-shift)
            .ok()
            .and_then(|s| 10i128.checked_pow(s))
        {
            Some(divisor) => ceil_div(mantissa, divisor),
            // Smaller than any billionth: rounded up to one, as Kubernetes does.
            None => i128::from(mantissa != 0),
        }
    };
    if power2 > 0 {
        nanos = nanos.min(MAX_BINARY);
    }
    Ok(Quantity {
        nanos: if parts.negative { -nanos } else { nanos },
    })
}

#[cfg(test)]
mod tests;
