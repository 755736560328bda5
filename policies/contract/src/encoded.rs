//! What the verdict size limit counts: the bytes of text a verdict carries
//! across the contract in its encoded (WIT) form, where found values and fix
//! values are JSON text. The SDK counts them to keep what it sends within
//! its limit, the host to refuse what goes past its own; both count here, so
//! they cannot disagree.

/// A violation in its encoded form, as either side's generated bindings
/// hold it.
pub trait EncodedViolation {
    /// Its rule id, message and pointer, and its found value (JSON text),
    /// hint and docs where it has them.
    fn texts(&self) -> [Option<&str>; 6];

    /// Each fix's pointer and, for a set, its value (JSON text).
    fn fix_texts(&self) -> impl Iterator<Item = (&str, Option<&str>)>;

    /// The bytes of text it carries, as the size limit counts them.
    fn encoded_size(&self) -> usize {
        let texts: usize = self.texts().iter().flatten().map(|text| text.len()).sum();
        let fixes: usize = self
            .fix_texts()
            .map(|(path, value)| path.len() + value.map_or(0, str::len))
            .sum();
        texts + fixes
    }
}

/// Implements [`EncodedViolation`] for `$wit::Violation`, the bindings'
/// violation type of the module `$wit` (the host's and the SDK's bindings are
/// distinct types of the same shape, generated from `wit/counsel.wit`).
#[macro_export]
macro_rules! impl_encoded_violation {
    ($wit:ident) => {
        impl $crate::EncodedViolation for $wit::Violation {
            fn texts(&self) -> [Option<&str>; 6] {
                [
                    Some(&self.rule),
                    Some(&self.message),
                    Some(&self.path),
                    self.found.as_deref(),
                    self.hint.as_deref(),
                    self.docs.as_deref(),
                ]
            }

            fn fix_texts(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
                self.fixes.iter().map(|edit| match edit {
                    $wit::Edit::Set(set) => (set.path.as_str(), Some(set.value.as_str())),
                    $wit::Edit::Remove(path) => (path.as_str(), None),
                })
            }
        }
    };
}

/// The bytes of text a whole encoded verdict carries, as the size limit
/// counts them: its warnings, its violations, and per omitted rule its id
/// and four bytes for the count.
pub fn verdict_encoded_size<'a, V: EncodedViolation + 'a>(
    warnings: impl IntoIterator<Item = &'a str>,
    violations: impl IntoIterator<Item = &'a V>,
    omitted_rules: impl IntoIterator<Item = &'a str>,
) -> usize {
    let warnings: usize = warnings.into_iter().map(str::len).sum();
    let violations: usize = violations.into_iter().map(V::encoded_size).sum();
    let omitted: usize = omitted_rules.into_iter().map(|rule| rule.len() + 4).sum();
    warnings + violations + omitted
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Plain {
        texts: [Option<&'static str>; 6],
        fixes: Vec<(&'static str, Option<&'static str>)>,
    }

    impl EncodedViolation for Plain {
        fn texts(&self) -> [Option<&str>; 6] {
            self.texts
        }

        fn fix_texts(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
            self.fixes.iter().copied()
        }
    }

    #[test]
    fn every_text_and_fix_counts_and_each_omitted_rule_four_more() {
        let violation = Plain {
            texts: [
                Some("rule"),
                Some("msg"),
                Some("/a"),
                Some("true"),
                None,
                None,
            ],
            fixes: vec![("/a", Some("false")), ("/b", None)],
        };
        assert_eq!(violation.encoded_size(), 4 + 3 + 2 + 4 + 2 + 5 + 2);
        assert_eq!(
            verdict_encoded_size(["warn"], [&violation], ["rule"]),
            4 + 22 + 4 + 4
        );
    }
}
