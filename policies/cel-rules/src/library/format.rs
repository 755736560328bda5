//! Kubernetes' CEL format library, for the formats of Kubernetes names:
//! `format.dns1123Label()`, `format.dns1123Subdomain()`,
//! `format.dns1035Label()`, `format.qualifiedName()`, `format.labelValue()`,
//! `format.named('dns1123Label')` (an optional), and on a format,
//! `validate(s)`: `optional.none()` when `s` is valid, otherwise a list of
//! what is wrong, in Kubernetes' words.

use std::any::Any;

use cel_interpreter::common::types::{self, CelList, CelOptional, CelString, Type};
use cel_interpreter::common::value::{CowVal, StaticVal, Val};
use cel_interpreter::{DeclarationError, Env, ExecutionError};
use regex::Regex;

const FORMAT: Type = Type::new_unspecified_type("kubernetes.NamedFormat");
/// The same, where a `'static` reference is needed.
static FORMAT_TYPE: Type = FORMAT;

/// The functions this library adds.
pub const FUNCTIONS: &[&str] = &[
    "named",
    "dns1123Label",
    "dns1123Subdomain",
    "dns1035Label",
    "qualifiedName",
    "labelValue",
    "validate",
];

/// A format of Kubernetes names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Dns1123Label,
    Dns1123Subdomain,
    Dns1035Label,
    QualifiedName,
    LabelValue,
}

const FORMATS: [(&str, Format); 5] = [
    ("dns1123Label", Format::Dns1123Label),
    ("dns1123Subdomain", Format::Dns1123Subdomain),
    ("dns1035Label", Format::Dns1035Label),
    ("qualifiedName", Format::QualifiedName),
    ("labelValue", Format::LabelValue),
];

const LABEL: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
const SUBDOMAIN: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1035: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const NAME: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const VALUE: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";

fn matches(pattern: &str, text: &str) -> bool {
    Regex::new(&format!("^(?:{pattern})$")).is_ok_and(|re| re.is_match(text))
}

fn too_long(text: &str, max: usize) -> Option<String> {
    (text.len() > max).then(|| format!("must be no more than {max} characters"))
}

fn subdomain(text: &str) -> Vec<String> {
    let mut errors: Vec<String> = too_long(text, 253).into_iter().collect();
    if !matches(SUBDOMAIN, text) {
        errors.push(format!(
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '{SUBDOMAIN}')"
        ));
    }
    errors
}

impl Format {
    /// What is wrong with `text` in this format; empty when it is valid.
    pub fn validate(self, text: &str) -> Vec<String> {
        let mut errors = Vec::new();
        match self {
            Format::Dns1123Label => {
                errors.extend(too_long(text, 63));
                if !matches(LABEL, text) {
                    errors.push(format!("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '{LABEL}')"));
                }
            }
            Format::Dns1123Subdomain => errors = subdomain(text),
            Format::Dns1035Label => {
                errors.extend(too_long(text, 63));
                if !matches(DNS1035, text) {
                    errors.push(format!("a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '{DNS1035}')"));
                }
            }
            Format::LabelValue => {
                errors.extend(too_long(text, 63));
                if !matches(VALUE, text) {
                    errors.push(format!("a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '{VALUE}')"));
                }
            }
            Format::QualifiedName => {
                let parts: Vec<&str> = text.split('/').collect();
                let name = match parts.as_slice() {
                    [name] => *name,
                    [prefix, name] => {
                        if prefix.is_empty() {
                            errors.push("prefix part must be non-empty".to_owned());
                        } else {
                            errors.extend(
                                subdomain(prefix)
                                    .into_iter()
                                    .map(|e| format!("prefix part {e}")),
                            );
                        }
                        *name
                    }
                    _ => {
                        return vec![format!(
                            "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{NAME}') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
                        )];
                    }
                };
                if name.is_empty() {
                    errors.push("name part must be non-empty".to_owned());
                } else {
                    errors.extend(too_long(name, 63).map(|e| format!("name part {e}")));
                    if !matches(NAME, name) {
                        errors.push(format!("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '{NAME}')"));
                    }
                }
            }
        }
        errors
    }
}

impl Val for Format {
    fn get_type(&self) -> &Type {
        &FORMAT_TYPE
    }

    fn cel_type() -> &'static Type {
        &FORMAT_TYPE
    }

    fn equals(&self, other: &dyn Val) -> bool {
        other.downcast_ref::<Format>() == Some(self)
    }

    fn clone_as_boxed<'v>(&self) -> Box<dyn Val + 'v> {
        Box::new(*self)
    }

    fn as_any(&self) -> Option<&dyn Any> {
        Some(self)
    }
}

impl StaticVal for Format {}

fn validate<'b, 'v>(args: Vec<CowVal<'b, 'v>>) -> Result<CowVal<'b, 'v>, ExecutionError> {
    let format = args[0]
        .downcast_ref::<Format>()
        .ok_or_else(|| ExecutionError::function_error("validate", "expects a format"))?;
    let text = args[1]
        .downcast_ref::<CelString>()
        .ok_or_else(|| ExecutionError::function_error("validate", "expects a string"))?;
    let errors = format.validate(text.inner());
    if errors.is_empty() {
        return Ok(CowVal::owned(CelOptional::none()));
    }
    let list: Vec<Box<dyn Val + 'v>> = errors
        .into_iter()
        .map(|e| Box::new(CelString::from(e)) as Box<dyn Val>)
        .collect();
    Ok(CowVal::owned(CelOptional::of(Box::new(CelList::from(
        list,
    )))))
}

/// Adds the library to `env`.
pub fn extension(env: &mut Env) -> Result<(), DeclarationError> {
    env.add_overload(
        "format.named",
        "format_named_string",
        vec![types::STRING_TYPE],
        |args| {
            let name = args[0].downcast_ref::<CelString>().ok_or_else(|| {
                ExecutionError::function_error("format.named", "expects a string")
            })?;
            let found = FORMATS.iter().find(|(n, _)| *n == name.inner());
            Ok(CowVal::owned(match found {
                Some((_, format)) => CelOptional::of(Box::new(*format)),
                None => CelOptional::none(),
            }))
        },
    )?;
    let constructors: [(&str, cel_interpreter::common::functions::Function); 5] = [
        ("format.dns1123Label", |_| {
            Ok(CowVal::owned(Format::Dns1123Label))
        }),
        ("format.dns1123Subdomain", |_| {
            Ok(CowVal::owned(Format::Dns1123Subdomain))
        }),
        ("format.dns1035Label", |_| {
            Ok(CowVal::owned(Format::Dns1035Label))
        }),
        ("format.qualifiedName", |_| {
            Ok(CowVal::owned(Format::QualifiedName))
        }),
        ("format.labelValue", |_| {
            Ok(CowVal::owned(Format::LabelValue))
        }),
    ];
    for (name, function) in constructors {
        env.add_overload(name, name, vec![], function)?;
    }
    env.add_member_overload(
        "validate",
        "format_validate_string",
        FORMAT,
        vec![types::STRING_TYPE],
        validate,
    )?;
    Ok(())
}
