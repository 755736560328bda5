//! Reading an AdmissionReview (admission.k8s.io/v1) off the wire.
//!
//! The envelope is checked first (JSON, `apiVersion`, `kind`, `request`),
//! then the `request` member is read with
//! [`Received::read`](crate::request::Received::read): of the objects only
//! their identity, and the JSON exactly as the API server sent it, for the
//! policies. Every error says what is wrong and where, for
//! whoever is calling by hand with curl. What Counsel could not judge (a
//! member name given twice, a CREATE or UPDATE without its object) is such
//! an error, never an answer: the API server then applies the webhook's
//! failurePolicy.

mod body;
mod duplicates;
mod timeout;

use std::collections::BTreeMap;

use serde::Deserialize;
use serde::de::{IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::request::{Operation, Received, Request, UniqueSkip};

pub use body::{BodyBudget, BodyError, BodyPermit, read_body};
pub use duplicates::{DuplicateKey, find_duplicate_key};
pub use timeout::{parse_go_duration, review_budget};

/// The only AdmissionReview version Counsel speaks.
pub const API_VERSION: &str = "admission.k8s.io/v1";
/// The envelope's kind.
pub const KIND: &str = "AdmissionReview";

/// Why a body is not a usable AdmissionReview. Answered with HTTP 400 and
/// this text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Not JSON at all, or not an object.
    #[error("the body is not a JSON AdmissionReview: {0}")]
    Json(String),
    /// `apiVersion` is missing or another version.
    #[error(
        "apiVersion is {found}, expected \"admission.k8s.io/v1\" (Counsel speaks AdmissionReview v1 only; set admissionReviewVersions: [v1])"
    )]
    ApiVersion {
        /// What was sent, quoted, or `missing`.
        found: String,
    },
    /// `kind` is missing or not `AdmissionReview`.
    #[error("kind is {found}, expected \"AdmissionReview\"")]
    Kind {
        /// What was sent, quoted, or `missing`.
        found: String,
    },
    /// No `request` member (or `null`).
    #[error(
        "the AdmissionReview has no request: expected a \"request\" object with uid, kind, resource, operation and object"
    )]
    MissingRequest,
    /// `request.uid` is missing or empty.
    #[error("request.uid is missing or empty: the response must echo it")]
    MissingUid,
    /// A member name appears twice in one object.
    #[error(
        "{} has the member {key:?} twice: JSON readers disagree about which one counts, so Counsel judges no such review (the API server never sends one)",
        if path.is_empty() { "the AdmissionReview".to_owned() } else { path.clone() }
    )]
    DuplicateKey {
        /// Where the object is (`request.object.metadata`); empty for the
        /// AdmissionReview itself.
        path: String,
        /// The name given twice.
        key: String,
    },
    /// A CREATE or UPDATE without `object` (or with `null`).
    #[error("request.object is {found}: {operation} reviews must carry the object to judge")]
    MissingObject {
        /// The operation.
        operation: &'static str,
        /// `missing` or `null`.
        found: &'static str,
    },
    /// `object` or `oldObject` is not a JSON object.
    #[error("request.{member} is {found}, expected a Kubernetes object (a JSON object)")]
    NotAnObject {
        /// `object` or `oldObject`.
        member: &'static str,
        /// What it is (`an array`).
        found: &'static str,
    },
    /// A field of `request` is missing or has the wrong type.
    #[error("request.{path}: {message}")]
    Request {
        /// Dotted path inside `request` (`userInfo.groups[0]`), or empty.
        path: String,
        /// What is wrong there.
        message: String,
    },
}

/// The AdmissionReview around the request, the request kept raw; every
/// other member is read only to check it (no member name twice).
struct Envelope<'a> {
    api_version: Option<String>,
    kind: Option<String>,
    request: Option<&'a RawValue>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Envelope<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(reader: D) -> Result<Self, D::Error> {
        reader.deserialize_map(EnvelopeVisitor)
    }
}

struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Envelope<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an AdmissionReview")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Envelope<'de>, A::Error> {
        let mut envelope = Envelope {
            api_version: None,
            kind: None,
            request: None,
        };
        let mut names: Vec<std::borrow::Cow<'de, str>> = Vec::new();
        while let Some(name) = members.next_key::<std::borrow::Cow<'de, str>>()? {
            match &*name {
                "apiVersion" => envelope.api_version = members.next_value()?,
                "kind" => envelope.kind = members.next_value()?,
                "request" => envelope.request = members.next_value()?,
                _ => members.next_value_seed(UniqueSkip)?,
            }
            if names.contains(&name) {
                return Err(serde::de::Error::custom(Received::DUPLICATE_NAME));
            }
            names.push(name);
        }
        Ok(envelope)
    }
}

/// Decodes an AdmissionReview body into the request it carries.
pub fn decode_review(body: &[u8]) -> Result<Received, DecodeError> {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    if first != Some(b'{') {
        // serde would read a struct from an array; say what the body is.
        return Err(DecodeError::Json(
            match (first, serde_json::from_slice::<IgnoredAny>(body)) {
                (None, _) => "the body is empty".to_owned(),
                (_, Err(error)) => error.to_string(),
                (Some(first), Ok(_)) => format!(
                    "expected an object with apiVersion, kind and request, found {}",
                    json_kind(first)
                ),
            },
        ));
    }
    let envelope: Envelope<'_> = serde_json::from_slice(body)
        .map_err(|error| duplicate_in(body).unwrap_or(DecodeError::Json(error.to_string())))?;
    let quoted =
        |value: Option<String>| value.map_or_else(|| "missing".to_owned(), |v| format!("{v:?}"));
    if envelope.api_version.as_deref() != Some(API_VERSION) {
        return Err(DecodeError::ApiVersion {
            found: quoted(envelope.api_version),
        });
    }
    if envelope.kind.as_deref() != Some(KIND) {
        return Err(DecodeError::Kind {
            found: quoted(envelope.kind),
        });
    }
    let raw = match envelope.request {
        Some(raw) if raw.get() != "null" => raw,
        _ => return Err(DecodeError::MissingRequest),
    };
    // The plain read is the fast path (of the objects only their identity:
    // policies get the JSON as received); only a request that fails it is
    // parsed again with path tracking, to say where it is wrong.
    let received = match Received::read(raw.get()) {
        Ok(received) => received,
        Err(_) => {
            return Err(duplicate_in(body).unwrap_or_else(|| locate_request_error(raw.get())));
        }
    };
    if received.request().uid.is_empty() {
        return Err(DecodeError::MissingUid);
    }
    check_objects(received.request(), raw.get())?;
    Ok(received)
}

/// A CREATE or UPDATE carries its object, and what is in `object` and
/// `oldObject` is an object: policies could judge nothing else, and judging
/// nothing would allow it.
fn check_objects(request: &Request, raw: &str) -> Result<(), DecodeError> {
    if matches!(request.operation, Operation::Create | Operation::Update)
        && request.object.is_none()
    {
        // Read as `None` either way; say which the client sent (members
        // kept raw: nothing of them is built).
        let present = serde_json::from_str::<BTreeMap<String, &RawValue>>(raw)
            .is_ok_and(|members| members.contains_key("object"));
        return Err(DecodeError::MissingObject {
            operation: request.operation.as_str(),
            found: if present { "null" } else { "missing" },
        });
    }
    for (member, value) in [
        ("object", &request.object),
        ("oldObject", &request.old_object),
    ] {
        if let Some(value) = value
            && !value.is_object()
        {
            return Err(DecodeError::NotAnObject {
                member,
                found: match value {
                    serde_json::Value::Array(_) => "an array",
                    serde_json::Value::String(_) => "a string",
                    serde_json::Value::Bool(_) => "a boolean",
                    serde_json::Value::Number(_) => "a number",
                    serde_json::Value::Null | serde_json::Value::Object(_) => "null",
                },
            });
        }
    }
    Ok(())
}

/// The member name given twice in `body`, if any, and where. Only on the
/// error path: the reads above refuse such a body as they go, and this
/// second look finds where for the message.
fn duplicate_in(body: &[u8]) -> Option<DecodeError> {
    find_duplicate_key(body)
        .map(|DuplicateKey { path, key }| DecodeError::DuplicateKey { path, key })
}

/// Why `raw` is not a valid request, naming the field at fault.
fn locate_request_error(raw: &str) -> DecodeError {
    let mut deserializer = serde_json::Deserializer::from_str(raw);
    let error = match serde_path_to_error::deserialize::<_, Request>(&mut deserializer) {
        Ok(_) => {
            return DecodeError::Request {
                path: String::new(),
                message: "cannot be read".to_owned(),
            };
        }
        Err(error) => error,
    };
    let path = error.path().to_string();
    let inner = error.into_inner();
    let message = without_position(&inner);
    if message == "missing field `uid`" && (path.is_empty() || path == ".") {
        return DecodeError::MissingUid;
    }
    DecodeError::Request {
        path: if path == "." { String::new() } else { path },
        message,
    }
}

/// serde_json's message without its `at line L column C` suffix, which
/// would point into the request member rather than the body.
fn without_position(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    text.strip_suffix(&suffix)
        .map(str::to_owned)
        .unwrap_or(text)
}

/// What a JSON value starting with `first` is, in words.
fn json_kind(first: u8) -> &'static str {
    match first {
        b'[' => "an array",
        b'"' => "a string",
        b't' | b'f' => "a boolean",
        b'n' => "null",
        _ => "a number",
    }
}

/// Whether a `Content-Type` names JSON (`application/json`, with or without
/// parameters, or any `application/*+json`).
pub fn is_json_content_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn review(request: &str) -> String {
        format!(
            r#"{{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{request}}}"#
        )
    }

    const MINIMAL: &str = r#"{"uid":"u-1","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"operation":"CREATE","object":{"kind":"Pod","metadata":{"name":"p"}}}"#;

    #[test]
    fn decodes_a_minimal_review_keeping_the_object_raw() {
        let received = decode_review(review(MINIMAL).as_bytes()).expect("decodes");
        let request = received.request();
        assert_eq!(request.uid, "u-1");
        assert_eq!(
            request.object,
            Some(serde_json::json!({"kind":"Pod","metadata":{"name":"p"}}))
        );
        // Policies get the request exactly as the API server sent it.
        assert_eq!(received.json(), MINIMAL);
        assert_eq!(
            crate::request::Admission::from(&received).to_json(),
            MINIMAL
        );
    }

    #[test]
    fn names_what_is_wrong() {
        let cases: Vec<(String, &str)> = vec![
            (
                "{".into(),
                "the body is not a JSON AdmissionReview: EOF while parsing an object at line 1 column 1",
            ),
            (
                "[1]".into(),
                "the body is not a JSON AdmissionReview: expected an object with apiVersion, kind and request, found an array",
            ),
            (
                "  ".into(),
                "the body is not a JSON AdmissionReview: the body is empty",
            ),
            (
                r#"{"apiVersion":1}"#.into(),
                "the body is not a JSON AdmissionReview: invalid type: integer `1`, expected a string at line 1 column 15",
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1beta1","kind":"AdmissionReview"}"#.into(),
                "apiVersion is \"admission.k8s.io/v1beta1\", expected \"admission.k8s.io/v1\" (Counsel speaks AdmissionReview v1 only; set admissionReviewVersions: [v1])",
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1"}"#.into(),
                "kind is missing, expected \"AdmissionReview\"",
            ),
            (
                r#"{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}"#.into(),
                "the AdmissionReview has no request: expected a \"request\" object with uid, kind, resource, operation and object",
            ),
            (
                review(r#"{"kind":{}}"#),
                "request.uid is missing or empty: the response must echo it",
            ),
            (
                review(&MINIMAL.replace(r#""operation":"CREATE""#, r#""operation":"PATCH""#)),
                "request.operation: unknown variant `PATCH`, expected one of `CREATE`, `UPDATE`, `DELETE`, `CONNECT`",
            ),
            (
                review(&MINIMAL.replace(
                    r#""uid":"u-1","#,
                    r#""uid":"u-1","userInfo":{"groups":[1]},"#,
                )),
                "request.userInfo.groups[0]: invalid type: integer `1`, expected a string",
            ),
            (
                review(&MINIMAL.replace(r#""uid":"u-1","#, r#""uid":"u-1","uid":"u-2","#)),
                "request has the member \"uid\" twice: JSON readers disagree about which one counts, so Counsel judges no such review (the API server never sends one)",
            ),
            (
                review(&MINIMAL.replace(
                    r#""object":{"kind":"Pod","metadata":{"name":"p"}}"#,
                    r#""object":null"#,
                )),
                "request.object is null: CREATE reviews must carry the object to judge",
            ),
            (
                review(&MINIMAL.replace(r#","object":{"kind":"Pod","metadata":{"name":"p"}}"#, "")),
                "request.object is missing: CREATE reviews must carry the object to judge",
            ),
            (
                review(&MINIMAL.replace(
                    r#""object":{"kind":"Pod","metadata":{"name":"p"}}"#,
                    r#""object":{},"oldObject":"p""#,
                )),
                "request.oldObject is a string, expected a Kubernetes object (a JSON object)",
            ),
        ];
        for (body, expected) in cases {
            let error = decode_review(body.as_bytes()).expect_err(&body);
            assert_eq!(error.to_string(), expected, "for {body}");
        }
    }

    #[test]
    fn recognises_json_content_types() {
        for yes in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/merge-patch+json",
        ] {
            assert!(is_json_content_type(yes), "{yes}");
        }
        for no in [
            "",
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/jsonx",
            "text/json+xml",
        ] {
            assert!(!is_json_content_type(no), "{no}");
        }
    }
}
