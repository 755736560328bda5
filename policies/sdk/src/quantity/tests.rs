use super::*;

fn q(text: &str) -> i128 {
    match parse(text) {
        Ok(quantity) => quantity.nanos(),
        Err(err) => panic!("{text}: {err}"),
    }
}

#[test]
fn suffixes_scale_exactly() {
    assert_eq!(q("1"), NANOS);
    assert_eq!(q("500m"), NANOS / 2);
    assert_eq!(q("1n"), 1);
    assert_eq!(q("3u"), 3_000);
    assert_eq!(q("2k"), 2_000 * NANOS);
    assert_eq!(q("1E"), NANOS * NANOS * NANOS);
    assert_eq!(q("1Ki"), 1024 * NANOS);
    assert_eq!(q("1.5Gi"), q("1536Mi"));
    assert_eq!(q("2e3"), q("2k"));
    assert_eq!(q("1E3"), q("1k"));
    assert_eq!(q("5e-3"), q("5m"));
    assert_eq!(q("+1.25"), q("1250m"));
    assert_eq!(q("-1.25"), -(NANOS + NANOS / 4));
    assert_eq!(q("0.1") + q("0.2"), q("0.3"));
    assert_eq!(q("007.50"), q("7.5"));
}

#[test]
fn the_api_servers_quirks_are_kept() {
    // A lone sign or point is zero, and so is a suffix with no number.
    for zero in ["0", "-", "+", ".", "Mi", "0.000"] {
        assert_eq!(q(zero), 0, "{zero}");
    }
    assert_eq!(q("1.G"), q("1G"));
    assert_eq!(q(".5"), q("500m"));
}

#[test]
fn finer_than_a_billionth_rounds_up_away_from_zero() {
    assert_eq!(q("1.0000000001"), NANOS + 1);
    assert_eq!(q("-1.0000000001"), -(NANOS + 1));
    assert_eq!(q("1e-30"), 1);
    assert_eq!(q("0.5n"), 1);
    // Rounded after the binary suffix is applied, not before.
    assert_eq!(q("0.0000000001Ki"), 103);
}

#[test]
fn binary_quantities_are_capped_as_in_kubernetes() {
    assert_eq!(q("16Ei"), MAX_BINARY);
    assert_eq!(q("16E"), 16 * NANOS * NANOS * NANOS);
}

#[test]
fn errors_say_what_is_wrong() {
    for bad in ["", "1.2.3", "1x", "1 ", " 1", "1e3.5", "abc"] {
        assert_eq!(
            parse(bad),
            Err(QuantityError::Format(bad.into())),
            "{bad:?}"
        );
    }
    for (bad, suffix) in [
        ("1e", "e"),
        ("1K", "K"),
        ("--1", "-1"),
        ("1iM", "iM"),
        ("1kk", "kk"),
        ("1Mi5", "Mi5"),
    ] {
        assert_eq!(
            parse(bad),
            Err(QuantityError::Suffix {
                text: bad.into(),
                suffix: suffix.into()
            }),
            "{bad:?}"
        );
    }
    assert_eq!(parse("1e40"), Err(QuantityError::Range("1e40".into())));
    assert_eq!(
        parse("1K").unwrap_err().to_string(),
        "\"1K\" is not a quantity: its suffix \"K\" is none of n, u, m, k, M, G, T, P, E, Ki, Mi, \
         Gi, Ti, Pi, Ei or an exponent (e3)"
    );
}

#[test]
fn conversions_round_up_as_kubernetes_does() {
    let quantity = Quantity::parse("1500m").unwrap();
    assert_eq!(quantity.millis(), 1500);
    assert_eq!(quantity.units(), 2);
    assert!(!quantity.is_integer());
    assert_eq!(Quantity::parse("-1500m").unwrap().units(), -1);
    assert_eq!(Quantity::from_millis(250), Quantity::parse("0.25").unwrap());
    assert_eq!(Quantity::from_units(3).to_string(), "3");
    assert_eq!(Quantity::parse("-1.5Ki").unwrap().to_string(), "-1536");
    assert_eq!(Quantity::parse("1n").unwrap().to_string(), "0.000000001");
    assert_eq!(
        Quantity::parse("1")
            .unwrap()
            .checked_add(Quantity::parse("500m").unwrap()),
        Some(Quantity::parse("1.5").unwrap())
    );
    assert_eq!(
        Quantity::from_nanos(i128::MAX).checked_add(Quantity::from_nanos(1)),
        None
    );
    assert_eq!(Quantity::parse("-2").unwrap().signum(), -1);
}
