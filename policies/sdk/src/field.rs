//! Typed reads of one member of a JSON object that report a wrong type as an
//! `invalid-field` [`Violation`] instead of failing.
//!
//! `null` reads as absent, as it does for Kubernetes (`securityContext:` with
//! no value). Each function takes the object, the member's key, and the JSON
//! Pointer of the object (so the violation can point at the member).
//!
//! ```
//! use counsel_policy::{field, json};
//!
//! let container = json!({"name": "app", "securityContext": {"privileged": "yes"}});
//! let container = container.as_object().unwrap();
//! let base = "/spec/containers/0";
//! let sc = field::object(container, "securityContext", base).unwrap().unwrap();
//! let err = field::boolean(sc, "privileged", "/spec/containers/0/securityContext").unwrap_err();
//! assert_eq!(err.path, "/spec/containers/0/securityContext/privileged");
//! assert_eq!(err.message, "`/spec/containers/0/securityContext/privileged` must be a boolean, but it is a string");
//! ```

// The error is a finished `invalid-field` violation for the verdict, built
// only on the rare bad-input path; boxing it would make every caller unbox.
#![allow(clippy::result_large_err)]

use serde_json::{Map, Value};

use crate::pointer;
use crate::verdict::{Violation, invalid_field};

/// A JSON object, as serde_json represents it.
pub type Object = Map<String, Value>;

/// The member `key`, unless it is missing or `null`.
pub fn get<'a>(object: &'a Object, key: &str) -> Option<&'a Value> {
    object.get(key).filter(|value| !value.is_null())
}

/// The member `key` as an object.
pub fn object<'a>(
    object: &'a Object,
    key: &str,
    object_pointer: &str,
) -> Result<Option<&'a Object>, Violation> {
    typed(object, key, object_pointer, "an object", Value::as_object)
}

/// The member `key` as an array.
pub fn array<'a>(
    object: &'a Object,
    key: &str,
    object_pointer: &str,
) -> Result<Option<&'a Vec<Value>>, Violation> {
    typed(object, key, object_pointer, "an array", Value::as_array)
}

/// The member `key` as a boolean.
pub fn boolean(
    object: &Object,
    key: &str,
    object_pointer: &str,
) -> Result<Option<bool>, Violation> {
    typed(object, key, object_pointer, "a boolean", Value::as_bool)
}

/// The member `key` as a string.
pub fn string<'a>(
    object: &'a Object,
    key: &str,
    object_pointer: &str,
) -> Result<Option<&'a str>, Violation> {
    typed(object, key, object_pointer, "a string", Value::as_str)
}

/// The member `key` as an integer.
pub fn integer(object: &Object, key: &str, object_pointer: &str) -> Result<Option<i64>, Violation> {
    typed(object, key, object_pointer, "an integer", Value::as_i64)
}

fn typed<'a, T>(
    object: &'a Object,
    key: &str,
    object_pointer: &str,
    expected: &str,
    read: impl FnOnce(&'a Value) -> Option<T>,
) -> Result<Option<T>, Violation> {
    let Some(value) = get(object, key) else {
        return Ok(None);
    };
    match read(value) {
        Some(typed) => Ok(Some(typed)),
        None => Err(invalid_field(
            &pointer::push(object_pointer, key),
            value,
            expected,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            other => panic!("test object is {other}"),
        }
    }

    #[test]
    fn missing_and_null_read_as_absent() {
        let o = obj(json!({"a": null}));
        assert_eq!(boolean(&o, "a", "/x"), Ok(None));
        assert_eq!(boolean(&o, "b", "/x"), Ok(None));
        assert_eq!(object(&o, "a", "/x"), Ok(None));
        assert_eq!(get(&o, "a"), None);
    }

    #[test]
    fn right_types_are_returned() {
        let o = obj(json!({"b": true, "s": "x", "i": -3, "l": [1], "o": {"k": 1}}));
        assert_eq!(boolean(&o, "b", ""), Ok(Some(true)));
        assert_eq!(string(&o, "s", ""), Ok(Some("x")));
        assert_eq!(integer(&o, "i", ""), Ok(Some(-3)));
        assert_eq!(array(&o, "l", ""), Ok(Some(&vec![json!(1)])));
        assert_eq!(object(&o, "o", ""), Ok(Some(&obj(json!({"k": 1})))));
    }

    #[test]
    fn wrong_types_are_invalid_field_violations_at_the_member() {
        let o = obj(json!({"a/b": 1.5, "s": ["x"]}));
        let v = integer(&o, "a/b", "/spec").unwrap_err();
        assert_eq!(v.rule, "invalid-field");
        assert_eq!(v.path, "/spec/a~1b");
        assert_eq!(v.found, Some(json!(1.5)));
        assert_eq!(
            v.message,
            "`/spec/a~1b` must be an integer, but it is a number"
        );
        let v = string(&o, "s", "").unwrap_err();
        assert_eq!(v.message, "`/s` must be a string, but it is an array");
    }
}
