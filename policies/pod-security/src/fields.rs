//! Reading the submitted object: typed, with JSON Pointers, never panicking.
//!
//! Pod Security Admission sees typed Go structs; Counsel sees the JSON the
//! developer wrote, before the API server decodes it. A field of the wrong
//! JSON type is reported once as the SDK's `invalid-field` violation and is
//! otherwise treated as absent (the object fails either way, so no check can
//! let it through).

use std::collections::BTreeSet;

use counsel_policy::field::{self, Object};
use counsel_policy::{Value, Violation, invalid_field, pointer};

/// A JSON object inside the submitted object, with its pointer.
#[derive(Debug, Clone)]
pub struct Obj<'a> {
    /// The object's members.
    pub map: &'a Object,
    /// RFC 6901 pointer to the object from the root of the submitted object.
    pub ptr: String,
}

impl<'a> Obj<'a> {
    /// Wraps `map`, found at `ptr`.
    pub fn new(map: &'a Object, ptr: impl Into<String>) -> Obj<'a> {
        Obj {
            map,
            ptr: ptr.into(),
        }
    }

    /// Pointer to member `key` (present or not).
    pub fn at(&self, key: &str) -> String {
        pointer::push(&self.ptr, key)
    }

    /// Member `key` unless it is absent or `null` (Kubernetes' *nil*).
    pub fn value(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|value| !value.is_null())
    }

    /// Member `key` as an object; `None` when nil or of the wrong type.
    pub fn object(&self, key: &str, out: &mut Findings) -> Option<Obj<'a>> {
        let map = out.read(field::object(self.map, key, &self.ptr))?;
        Some(Obj::new(map, self.at(key)))
    }

    /// Member `key` as a boolean; `None` when nil or of the wrong type.
    pub fn bool(&self, key: &str, out: &mut Findings) -> Option<bool> {
        out.read(field::boolean(self.map, key, &self.ptr))
    }

    /// Member `key` as a string; `None` when nil or of the wrong type.
    pub fn str(&self, key: &str, out: &mut Findings) -> Option<&'a str> {
        out.read(field::string(self.map, key, &self.ptr))
    }

    /// Member `key` as an integer; `None` when nil or not an integer.
    pub fn int(&self, key: &str, out: &mut Findings) -> Option<i64> {
        out.read(field::integer(self.map, key, &self.ptr))
    }

    /// Member `key` as an array; `None` when nil or of the wrong type.
    pub fn array(&self, key: &str, out: &mut Findings) -> Option<&'a [Value]> {
        out.read(field::array(self.map, key, &self.ptr))
            .map(Vec::as_slice)
    }

    /// The objects in array member `key`, each with its pointer. Items that
    /// are not objects are reported and skipped.
    pub fn objects(&self, key: &str, out: &mut Findings) -> Vec<(usize, Obj<'a>)> {
        let Some(items) = self.array(key, out) else {
            return Vec::new();
        };
        let list = self.at(key);
        let mut objects = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let ptr = pointer::push(&list, &index.to_string());
            match item {
                Value::Object(map) => objects.push((index, Obj::new(map, ptr))),
                other => out.invalid(invalid_field(&ptr, other, "an object")),
            }
        }
        objects
    }

    /// The strings in array member `key`, each with its index. Items that are
    /// not strings are reported and skipped.
    pub fn strings(&self, key: &str, out: &mut Findings) -> Vec<(usize, &'a str)> {
        let Some(items) = self.array(key, out) else {
            return Vec::new();
        };
        let list = self.at(key);
        let mut strings = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            match item {
                Value::String(s) => strings.push((index, s.as_str())),
                other => {
                    let ptr = pointer::push(&list, &index.to_string());
                    out.invalid(invalid_field(&ptr, other, "a string"));
                }
            }
        }
        strings
    }
}

/// The violations found in one pod spec. `invalid-field` violations are kept
/// once per pointer, however many checks read the field.
#[derive(Debug, Default)]
pub struct Findings {
    violations: Vec<Violation>,
    invalid: BTreeSet<String>,
}

impl Findings {
    /// Records a violation.
    pub fn push(&mut self, violation: Violation) {
        self.violations.push(violation);
    }

    /// Records an `invalid-field` violation, once per pointer.
    pub fn invalid(&mut self, violation: Violation) {
        if self.invalid.insert(violation.path.clone()) {
            self.violations.push(violation);
        }
    }

    /// The value of a typed read, recording its `invalid-field` violation.
    pub fn read<T>(&mut self, read: Result<Option<T>, Violation>) -> Option<T> {
        read.unwrap_or_else(|problem| {
            self.invalid(problem);
            None
        })
    }

    /// The violations, in the order they were found.
    pub fn into_violations(self) -> Vec<Violation> {
        self.violations
    }
}
