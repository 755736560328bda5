//! Go's `strconv` as go-yaml v2 and sigs.k8s.io/yaml use it, so numbers
//! read and keys print as they do in Kubernetes.

/// A float that does not overflow (go's ParseFloat fails on overflow, and
/// the text then stays a string).
pub(super) fn finite_float(text: &str) -> Option<f64> {
    text.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, go-yaml's float syntax.
pub(super) fn is_yaml_float(text: &str) -> bool {
    let bytes = text.as_bytes();
    let mut i = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let digits = |from: usize| {
        (bytes.get(from..).unwrap_or_default().iter())
            .take_while(|b| b.is_ascii_digit())
            .count()
    };
    let whole = digits(i);
    i += whole;
    if whole == 0 {
        if bytes.get(i) != Some(&b'.') {
            return false;
        }
        let fraction = digits(i + 1);
        if fraction == 0 {
            return false;
        }
        i += 1 + fraction;
    } else if bytes.get(i) == Some(&b'.') {
        i += 1 + digits(i + 1);
    }
    if matches!(bytes.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(bytes.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        let exponent = digits(i);
        if exponent == 0 {
            return false;
        }
        i += exponent;
    }
    i == bytes.len()
}

/// Go's `strconv.ParseInt(text, 0, 64)`.
pub(super) fn go_parse_int(text: &str) -> Option<i64> {
    let (negative, digits) = match text.as_bytes().first()? {
        b'+' => (false, &text[1..]),
        b'-' => (true, &text[1..]),
        _ => (false, text),
    };
    let magnitude = go_parse_uint(digits)?;
    if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    }
}

/// Go's `strconv.ParseUint(text, 0, 64)`: `0x`, `0o`, `0b` prefixes, and a
/// leading `0` for octal.
pub(super) fn go_parse_uint(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let (radix, digits) = match bytes {
        [] => return None,
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'x') => (16, &text[2..]),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'o') => (8, &text[2..]),
        [b'0', prefix, _, ..] if prefix.eq_ignore_ascii_case(&b'b') => (2, &text[2..]),
        [b'0', ..] => (8, &text[1..]),
        _ => (10, text),
    };
    digits.bytes().try_fold(0u64, |acc, b| {
        let digit = char::from(b).to_digit(radix)?;
        acc.checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))
    })
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 32)` with go-yaml's names for the
/// non-finite values: how sigs.k8s.io/yaml turns a float key into a string.
pub(crate) fn go_float32_g(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    let single = f as f32;
    if single.is_infinite() {
        // Go prints "+Inf"/"-Inf", which sigs.k8s.io/yaml renames like the f64 ones.
        return if single > 0.0 {
            ".inf".into()
        } else {
            "-.inf".into()
        };
    }
    if single == 0.0 {
        return if single.is_sign_negative() {
            "-0".into()
        } else {
            "0".into()
        };
    }
    // Rust's `{:e}` gives the shortest digits that round-trip, as Go's `-1` precision does.
    let scientific = format!("{:e}", single.abs());
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
    let sign = if f < 0.0 { "-" } else { "" };
    if !(-4..6).contains(&exponent) {
        let (first, rest) = digits.split_at(1);
        let rest = if rest.is_empty() {
            String::new()
        } else {
            format!(".{}", String::from_utf8_lossy(rest))
        };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        return format!(
            "{sign}{}{rest}e{exp_sign}{:02}",
            String::from_utf8_lossy(first),
            exponent.abs()
        );
    }
    // Fixed notation: the decimal point sits after `exponent + 1` digits.
    let point = exponent + 1;
    let digit_at = |i: i32| {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .map_or('0', |&d| char::from(d))
    };
    let mut out = String::from(sign);
    if point > 0 {
        (0..point).for_each(|i| out.push(digit_at(i)));
    } else {
        out.push('0');
    }
    let decimals = (digits.len() as i32 - point).max(0);
    if decimals > 0 {
        out.push('.');
        (0..decimals).for_each(|i| out.push(digit_at(point + i)));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_keys_are_formatted_like_go_format_float_32() {
        let cases = [
            (1.0, "1"),
            (0.5, "0.5"),
            (0.1, "0.1"),
            (-2.25, "-2.25"),
            (123456.0, "123456"),
            (1e6, "1e+06"),
            (1234567.0, "1.234567e+06"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e20, "1e+20"),
            (1e300, ".inf"),
            (std::f64::consts::PI, "3.1415927"),
            (299_792.458, "299792.47"),
            (0.0, "0"),
            (f64::INFINITY, ".inf"),
            (f64::NEG_INFINITY, "-.inf"),
            (f64::NAN, ".nan"),
        ];
        for (f, expected) in cases {
            assert_eq!(go_float32_g(f), expected, "{f}");
        }
    }
}
