//! Reading a request off the wire in one pass that refuses any object
//! naming a member twice: of `object` and `oldObject` only their identity
//! is built (as [`super::IDENTITY`] says), the rest of them is skipped but
//! still checked, and every other member is read whole.
//!
//! JSON readers disagree about `{"a": 1, "a": 2}` (the first wins, the
//! last, or an error) and the API server never sends one, so a request
//! that has one is refused rather than read one way here and another way
//! by a policy. Checking while reading costs little more than the read:
//! member names are borrowed from the input, and compared with the few
//! names of their object.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// The error's text when a member name is given twice (the caller finds
/// where, on this rare path, and says so).
pub(crate) const DUPLICATE: &str = "an object has a member name twice";

/// Objects with more members than this are checked through a hash set.
const LINEAR_MEMBERS: usize = 16;

/// Reads an AdmissionRequest as described in the module docs.
pub(crate) fn read_request(json: &str) -> serde_json::Result<Value> {
    let mut reader = serde_json::Deserializer::from_str(json);
    let value = Shape::Request.deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

/// Reads a value without building it, refusing an object in it that has a
/// member name twice.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UniqueSkip;

impl<'de> DeserializeSeed<'de> for UniqueSkip {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, reader: D) -> Result<(), D::Error> {
        Shape::Skip.deserialize(reader).map(|_| ())
    }
}

/// What is built of a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// The request: its objects by identity, every other member whole.
    Request,
    /// An object: kind, apiVersion and metadata (by [`Shape::Metadata`]).
    Identity,
    /// An object's metadata: name, generateName, namespace, labels, uid.
    Metadata,
    /// Everything.
    Whole,
    /// Nothing: read and checked only (yields `null`).
    Skip,
}

impl Shape {
    fn member(self, name: &str) -> Shape {
        match (self, name) {
            (Shape::Request, "object" | "oldObject") => Shape::Identity,
            (Shape::Request, _) => Shape::Whole,
            (Shape::Identity, "kind" | "apiVersion") => Shape::Whole,
            (Shape::Identity, "metadata") => Shape::Metadata,
            (Shape::Metadata, "name" | "generateName" | "namespace" | "labels" | "uid") => {
                Shape::Whole
            }
            (Shape::Identity | Shape::Metadata, _) => Shape::Skip,
            (Shape::Whole, _) => Shape::Whole,
            (Shape::Skip, _) => Shape::Skip,
        }
    }
}

impl<'de> DeserializeSeed<'de> for Shape {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, reader: D) -> Result<Value, D::Error> {
        reader.deserialize_any(self)
    }
}

/// The member names of one object, to find one given twice: the first few
/// on the stack (most objects have only a few, and there are many objects),
/// the rest in a hash set.
struct Names<'de> {
    few: [Cow<'de, str>; LINEAR_MEMBERS],
    len: usize,
    many: Option<HashSet<Cow<'de, str>>>,
}

impl<'de> Names<'de> {
    fn new() -> Self {
        Names {
            few: Default::default(),
            len: 0,
            many: None,
        }
    }

    /// Records `name`; false when the object has it already.
    fn insert(&mut self, name: Cow<'de, str>) -> bool {
        if let Some(many) = &mut self.many {
            return many.insert(name);
        }
        if self.few[..self.len].contains(&name) {
            return false;
        }
        if self.len < LINEAR_MEMBERS {
            self.few[self.len] = name;
            self.len += 1;
        } else {
            let mut many: HashSet<Cow<'de, str>> =
                self.few.iter_mut().map(std::mem::take).collect();
            many.insert(name);
            self.many = Some(many);
        }
        true
    }
}

impl<'de> Visitor<'de> for Shape {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let duplicate = || de::Error::custom(DUPLICATE);
        if self == Shape::Whole {
            // The map itself tells a name given twice.
            let mut kept = Map::new();
            while let Some(name) = members.next_key_seed(Name)? {
                let value = members.next_value_seed(Shape::Whole)?;
                if kept.insert(name.into_owned(), value).is_some() {
                    return Err(duplicate());
                }
            }
            return Ok(Value::Object(kept));
        }
        let mut names = Names::new();
        if self == Shape::Skip {
            while let Some(name) = members.next_key_seed(Name)? {
                members.next_value_seed(Shape::Skip)?;
                if !names.insert(name) {
                    return Err(duplicate());
                }
            }
            return Ok(Value::Null);
        }
        let mut kept = Map::new();
        while let Some(name) = members.next_key_seed(Name)? {
            let shape = self.member(&name);
            let value = members.next_value_seed(shape)?;
            if shape != Shape::Skip {
                kept.insert(name.to_string(), value);
            }
            if !names.insert(name) {
                return Err(duplicate());
            }
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut elements: A) -> Result<Value, A::Error> {
        // An array where an object was expected is kept whole, as
        // `counsel_edit::Reads` keeps it.
        let element = if self == Shape::Skip {
            Shape::Skip
        } else {
            Shape::Whole
        };
        let mut kept = Vec::new();
        while let Some(value) = elements.next_element_seed(element)? {
            if element != Shape::Skip {
                kept.push(value);
            }
        }
        Ok(if element == Shape::Skip {
            Value::Null
        } else {
            Value::Array(kept)
        })
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Value, E> {
        Ok(Value::from(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(if self == Shape::Skip {
            Value::Null
        } else {
            Value::String(value.to_owned())
        })
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

/// A member name, borrowed from the input when it has no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, value: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(value))
    }
}

#[cfg(test)]
mod tests {
    use counsel_edit::Reads;
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_what_the_identity_reads_read() {
        let object = json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop", "generateName": "w-",
                         "labels": {"app": "web"}, "annotations": {"a": "b"}, "uid": "1-2"},
            "spec": {"template": {"spec": {"containers": [{"name": "a", "env": [{"name": "X"}]}]}}},
        });
        for request in [
            json!({"uid": "u", "object": object, "oldObject": object, "userInfo": {"groups": ["g"]}}),
            json!({"uid": "u", "object": null, "oldObject": [1, {"a": 2}]}),
            json!({"uid": "u", "object": {"metadata": "odd", "kind": 3}}),
            json!({"uid": "u", "object": "text", "options": {"x": [1.5, true, null]}}),
        ] {
            let json = request.to_string();
            let expected = Reads::only(super::super::IDENTITY)
                .read_members(&json, &["object", "oldObject"])
                .expect("reads");
            assert_eq!(read_request(&json).expect("reads"), expected, "{json}");
        }
    }

    #[test]
    fn refuses_a_name_given_twice_anywhere() {
        for json in [
            r#"{"uid":"a","uid":"b"}"#,
            r#"{"userInfo":{"username":"a","username":"b"}}"#,
            r#"{"object":{"kind":"Pod","kind":"Pod"}}"#,
            r#"{"object":{"metadata":{"name":"a","annotations":{},"name":"b"}}}"#,
            r#"{"object":{"spec":{"containers":[{"image":"a","image":"b"}]}}}"#,
            r#"{"oldObject":{"spec":{"x":{"y":{"\u007a":1,"z":2}}}}}"#,
        ] {
            let error = read_request(json).expect_err(json);
            assert!(error.to_string().starts_with(DUPLICATE), "{json}: {error}");
        }
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\":{i}")).collect();
        let large = format!(r#"{{"object":{{"spec":{{{}}}}}}}"#, many.join(","));
        assert!(read_request(&large).is_ok());
        let twice = format!(r#"{{"object":{{"spec":{{{},"k33":0}}}}}}"#, many.join(","));
        assert!(read_request(&twice).is_err());
        assert!(read_request(r#"{"object":{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}]}}"#).is_ok());
    }
}
