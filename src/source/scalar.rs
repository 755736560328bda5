//! What a scalar means, the way Kubernetes reads it: sigs.k8s.io/yaml on top
//! of go-yaml v2, which resolves plain scalars with YAML 1.1 rules.

use std::borrow::Cow;

mod go;

use base64::Engine as _;
use saphyr_parser::{ScalarStyle, Tag};
use serde_json::{Number, Value};

pub(crate) use go::go_float32_g;
use go::{finite_float, go_parse_int, go_parse_uint, is_yaml_float};

/// The prefix of the tags of the YAML type repository (`!!str` is short for
/// `tag:yaml.org,2002:str`).
const CORE_TAG_PREFIX: &str = "tag:yaml.org,2002:";

/// A scalar with its type resolved.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    /// A string: the scalar's own text.
    Text,
    /// A string decoded from the text (`!!binary`).
    Decoded(String),
}

impl Scalar {
    /// The short tag of the resolved type, for messages.
    fn tag(&self) -> &'static str {
        match self {
            Scalar::Null => "!!null",
            Scalar::Bool(_) => "!!bool",
            Scalar::Int(_) | Scalar::Uint(_) => "!!int",
            Scalar::Float(_) => "!!float",
            Scalar::Text | Scalar::Decoded(_) => "!!str",
        }
    }

    /// The JSON value of the scalar written as `text`. NaN and the infinities
    /// have none: Kubernetes fails to encode them too, so they are an error
    /// rather than a silent string.
    pub(crate) fn into_value(self, text: Cow<str>) -> Result<Value, String> {
        Ok(match self {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::from(i),
            Scalar::Uint(u) => Value::from(u),
            Scalar::Float(f) => match Number::from_f64(f) {
                Some(number) => Value::Number(number),
                None => {
                    return Err(format!(
                        "`{text}` is not a number JSON can represent; quote it if you mean the string"
                    ));
                }
            },
            // The parser hands over owned text: moved, not copied.
            Scalar::Text => Value::String(text.into_owned()),
            Scalar::Decoded(s) => Value::String(s),
        })
    }

    /// The JSON object key written as `text`: sigs.k8s.io/yaml turns numbers
    /// and booleans into strings; null (and anything else) cannot be a key.
    pub(crate) fn into_key(self, text: Cow<str>) -> Result<String, String> {
        Ok(match self {
            Scalar::Text => text.into_owned(),
            Scalar::Decoded(s) => s,
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Uint(u) => u.to_string(),
            Scalar::Float(f) => go_float32_g(f),
            Scalar::Null if text.is_empty() => {
                return Err(
                    "a key is missing: an empty key is null, which cannot be a JSON object key"
                        .into(),
                );
            }
            Scalar::Null => {
                return Err(format!(
                    "the key `{text}` reads as null, which cannot be a JSON object key; quote it if you mean the string"
                ));
            }
        })
    }
}

/// Resolve a scalar the way go-yaml v2 does: plain scalars by their
/// spelling, quoted and block scalars as strings, explicit tags honoured.
pub(crate) fn resolve(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Scalar, String> {
    let Some(tag) = tag else {
        return Ok(match style {
            ScalarStyle::Plain => resolve_plain(text),
            _ => Scalar::Text,
        });
    };
    let full = format!("{}{}", tag.handle, tag.suffix);
    let Some(short) = full.strip_prefix(CORE_TAG_PREFIX) else {
        // Local and non-specific tags (`!foo`, `!`) are not resolved: the text stays a string.
        return Ok(Scalar::Text);
    };
    let resolved = resolve_plain(text);
    let fits = match (short, &resolved) {
        ("str" | "timestamp", _) => return Ok(Scalar::Text),
        ("binary", _) => return decode_binary(text),
        ("null", Scalar::Null) | ("bool", Scalar::Bool(_)) | ("float", Scalar::Float(_)) => true,
        ("int", Scalar::Int(_) | Scalar::Uint(_)) => true,
        ("float", Scalar::Int(i)) => return Ok(Scalar::Float(*i as f64)),
        ("float", Scalar::Uint(u)) => return Ok(Scalar::Float(*u as f64)),
        ("null" | "bool" | "int" | "float", _) => false,
        // Other types of the repository (`!!merge`, `!!map` on a scalar, …) are left as text, as go-yaml does.
        _ => return Ok(Scalar::Text),
    };
    if fits {
        Ok(resolved)
    } else {
        Err(format!(
            "`{text}` cannot be read as !!{short}: it is a {}",
            resolved.tag()
        ))
    }
}

/// `!!binary`: base64 (line breaks allowed), decoded to text as Kubernetes'
/// JSON encoder would show it.
fn decode_binary(text: &str) -> Result<Scalar, String> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(bytes) => Ok(Scalar::Decoded(
            String::from_utf8_lossy(&bytes).into_owned(),
        )),
        Err(error) => Err(format!("!!binary value is not valid base64: {error}")),
    }
}

/// Resolve an untagged plain scalar (go-yaml v2, YAML 1.1 flavoured).
pub(crate) fn resolve_plain(text: &str) -> Scalar {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Scalar::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Scalar::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Scalar::Bool(false);
        }
        ".nan" | ".NaN" | ".NAN" => return Scalar::Float(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Scalar::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Scalar::Float(f64::NEG_INFINITY),
        _ => {}
    }
    let string = || Scalar::Text;
    match text.as_bytes().first() {
        Some(b'.') => {
            // Only a fraction: `.5`, `.5e3` (no underscores here).
            if let Some(f) = Some(text)
                .filter(|t| is_yaml_float(t))
                .and_then(finite_float)
            {
                return Scalar::Float(f);
            }
            string()
        }
        Some(b'+' | b'-' | b'0'..=b'9') => {
            let plain: Cow<str> = if text.contains('_') {
                Cow::Owned(text.replace('_', ""))
            } else {
                Cow::Borrowed(text)
            };
            if let Some(i) = go_parse_int(&plain) {
                return Scalar::Int(i);
            }
            if let Some(u) = go_parse_uint(&plain) {
                return Scalar::Uint(u);
            }
            if let Some(f) = Some(plain.as_ref())
                .filter(|t| is_yaml_float(t))
                .and_then(finite_float)
            {
                return Scalar::Float(f);
            }
            string()
        }
        _ => string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(text: &str) -> Scalar {
        resolve_plain(text)
    }

    #[test]
    fn yaml_1_1_booleans_and_nulls_as_go_yaml_v2_spells_them() {
        for t in [
            "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
        ] {
            assert_eq!(plain(t), Scalar::Bool(true), "{t}");
        }
        for f in [
            "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
        ] {
            assert_eq!(plain(f), Scalar::Bool(false), "{f}");
        }
        for s in ["yEs", "tRUE", "oN", "nO", "Off ", "yup", "t", "f"] {
            assert_eq!(plain(s), Scalar::Text, "{s}");
        }
        for n in ["", "~", "null", "Null", "NULL"] {
            assert_eq!(plain(n), Scalar::Null, "{n}");
        }
        assert_eq!(plain("nUll"), Scalar::Text);
    }

    #[test]
    fn integers_follow_go_parse_int_with_base_prefixes() {
        let cases = [
            ("0", Scalar::Int(0)),
            ("-0", Scalar::Int(0)),
            ("+12", Scalar::Int(12)),
            ("1_000", Scalar::Int(1000)),
            ("0x1F", Scalar::Int(31)),
            ("-0x1f", Scalar::Int(-31)),
            ("0o17", Scalar::Int(15)),
            ("017", Scalar::Int(15)),
            ("0b101", Scalar::Int(5)),
            ("-0b101", Scalar::Int(-5)),
            ("9223372036854775807", Scalar::Int(i64::MAX)),
            ("-9223372036854775808", Scalar::Int(i64::MIN)),
            (
                "9223372036854775808",
                Scalar::Uint(9_223_372_036_854_775_808),
            ),
            ("18446744073709551615", Scalar::Uint(u64::MAX)),
            // Too big for 64 bits: go-yaml falls back to a float.
            (
                "18446744073709551616",
                Scalar::Float(18_446_744_073_709_551_616.0),
            ),
            // Not octal, but the float syntax accepts it.
            ("08", Scalar::Float(8.0)),
        ];
        for (text, expected) in cases {
            assert_eq!(plain(text), expected, "{text}");
        }
        for s in [
            "0x",
            "0xZ",
            "1_000x",
            "+",
            "-",
            "0b2",
            "1-2",
            "12:30",
            "2001-12-14",
            "1.2.3",
            "_1",
        ] {
            assert_eq!(plain(s), Scalar::Text, "{s}");
        }
    }

    #[test]
    fn floats_follow_the_yaml_float_syntax_and_overflow_stays_text() {
        let cases = [
            ("1.5", 1.5),
            ("-2.", -2.0),
            ("+.5", 0.5),
            (".5", 0.5),
            (".5e3", 500.0),
            ("1e3", 1000.0),
            ("2.5E-1", 0.25),
            ("1_0.5", 10.5),
        ];
        for (text, expected) in cases {
            assert_eq!(plain(text), Scalar::Float(expected), "{text}");
        }
        assert!(matches!(plain(".nan"), Scalar::Float(f) if f.is_nan()));
        assert_eq!(plain("-.Inf"), Scalar::Float(f64::NEG_INFINITY));
        for s in [
            "1e400", ".1e400", ".", ".e3", "1e", "1e+", "._5", ".5_0", "inf", "nan", "0x1p3",
        ] {
            assert_eq!(plain(s), Scalar::Text, "{s}");
        }
    }

    #[test]
    fn tags_force_or_check_the_type() {
        let core = |suffix: &str| Tag {
            handle: CORE_TAG_PREFIX.into(),
            suffix: suffix.into(),
        };
        let dq = ScalarStyle::DoubleQuoted;
        assert_eq!(
            resolve("12", ScalarStyle::Plain, Some(&core("str"))),
            Ok(Scalar::Text)
        );
        assert_eq!(resolve("12", dq, Some(&core("int"))), Ok(Scalar::Int(12)));
        assert_eq!(
            resolve("12", dq, Some(&core("float"))),
            Ok(Scalar::Float(12.0))
        );
        assert_eq!(
            resolve("yes", dq, Some(&core("bool"))),
            Ok(Scalar::Bool(true))
        );
        assert_eq!(
            resolve("", ScalarStyle::Plain, Some(&core("null"))),
            Ok(Scalar::Null)
        );
        assert_eq!(
            resolve("aGk=", ScalarStyle::Plain, Some(&core("binary"))),
            Ok(Scalar::Decoded("hi".into()))
        );
        assert_eq!(
            resolve("1.5", dq, Some(&core("int"))),
            Err("`1.5` cannot be read as !!int: it is a !!float".into())
        );
        assert_eq!(
            resolve("abc", dq, Some(&core("bool"))),
            Err("`abc` cannot be read as !!bool: it is a !!str".into())
        );
        assert!(resolve("%%", dq, Some(&core("binary"))).is_err());
        let local = Tag {
            handle: "!".into(),
            suffix: "thing".into(),
        };
        assert_eq!(
            resolve("12", ScalarStyle::Plain, Some(&local)),
            Ok(Scalar::Text)
        );
        let verbatim = Tag {
            handle: String::new(),
            suffix: format!("{CORE_TAG_PREFIX}int"),
        };
        assert_eq!(resolve("7", dq, Some(&verbatim)), Ok(Scalar::Int(7)));
        assert_eq!(resolve("12", ScalarStyle::Literal, None), Ok(Scalar::Text));
    }
}
