//! The parts of the object a policy reads, so the rest is never built.
//!
//! Most of the time of an evaluation goes into turning the request's JSON
//! into a [`Value`] tree, and most of a real workload is what few policies
//! look at: environment variables, commands, volume mounts, affinity. A
//! policy that declares what it reads ([`Policy::reads`](crate::Policy::reads))
//! gets an object holding only that; everything else is skipped by the JSON
//! reader without being allocated.
//!
//! A pattern is a path of tokens from the object, separated by `/`, where
//! `*` stands for any member or array element (`spec/containers/*/image`). A
//! pattern keeps the whole value it reaches. Arrays are never shortened (so
//! indices and pointers stay true): an element no pattern reaches is kept
//! whole. Values of another type than a pattern expects (a string where it
//! expects an object) are kept as they are, so a policy still sees and
//! reports them.
//!
//! What a policy leaves out reads as absent, so a policy must declare every
//! field it reads; `counsel_policy::testing` runs each test both ways and
//! fails when the verdicts differ.
//!
//! ```
//! use counsel_policy::{Reads, Request};
//!
//! let json = r#"{"operation": "CREATE", "kind": {"kind": "Pod"}, "object": {
//!     "kind": "Pod",
//!     "spec": {"containers": [{"name": "app", "image": "app:1", "env": [{"name": "A"}]}]}
//! }}"#;
//! let reads = Reads::only(["kind", "spec/containers/*/image"]);
//! let request = Request::from_json_reading(json, &reads).unwrap();
//! assert_eq!(
//!     request.object().unwrap().to_string(),
//!     r#"{"kind":"Pod","spec":{"containers":[{"image":"app:1"}]}}"#
//! );
//! ```

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize as _;
use serde_json::{Map, Value};

/// Stands for any member or array element in a pattern.
const ANY: &str = "*";

/// What of the object a policy reads: everything (the default), or the
/// values some patterns reach (see the module docs).
///
/// Built anew for every evaluation (a policy instance lives for one), so it
/// is made of borrowed tokens and shared nodes: the pod template's patterns
/// of [`workload::reads`](crate::workload::reads) exist once, whatever the
/// number of kinds they serve.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reads {
    /// The patterns as a tree from the object; `None`: everything.
    object: Option<Rc<Node>>,
}

impl Reads {
    /// The whole object.
    pub fn everything() -> Reads {
        Reads { object: None }
    }

    /// The values the patterns reach (see the module docs). An empty
    /// pattern means the whole object.
    pub fn only(patterns: impl IntoIterator<Item = &'static str>) -> Reads {
        let mut reads = Reads::nothing();
        for pattern in patterns {
            reads.add(pattern.split('/'));
        }
        reads.finish()
    }

    /// No patterns yet: an object read as `{}`.
    pub(crate) fn nothing() -> Reads {
        Reads {
            object: Some(Rc::default()),
        }
    }

    /// Adds the pattern made of `tokens`, skipping empty ones (none at all:
    /// the whole object).
    pub(crate) fn add(&mut self, tokens: impl IntoIterator<Item = &'static str>) {
        let Some(root) = &mut self.object else {
            return;
        };
        let mut node = Rc::make_mut(root);
        let mut any = false;
        for token in tokens.into_iter().filter(|token| !token.is_empty()) {
            any = true;
            node = Rc::make_mut(node.child(token));
        }
        if any {
            node.whole = true;
        } else {
            self.object = None;
        }
    }

    /// Adds `other` below the path of `tokens` (none: at the object),
    /// sharing its nodes.
    pub(crate) fn add_at(&mut self, tokens: &[&'static str], other: &Reads) {
        let (Some(root), Some(other)) = (&mut self.object, &other.object) else {
            self.object = None;
            return;
        };
        let mut node = root;
        for token in tokens {
            node = Rc::make_mut(node).child(token);
        }
        Node::merge(node, other);
    }

    /// Makes `*` apply to the members named beside it, once every pattern
    /// is in.
    pub(crate) fn finish(mut self) -> Reads {
        if let Some(root) = &mut self.object {
            Node::spread_wildcards(root);
        }
        self
    }

    /// Whether the whole object is read.
    pub fn is_everything(&self) -> bool {
        self.object.is_none()
    }

    /// Reads an AdmissionRequest: `object` and `oldObject` as these reads
    /// say, every other member whole.
    pub(crate) fn request(&self, json: &str) -> serde_json::Result<Value> {
        let Some(object) = &self.object else {
            return serde_json::from_str(json);
        };
        let mut reader = serde_json::Deserializer::from_str(json);
        let value = Projection::Request(object).deserialize(&mut reader)?;
        reader.end()?;
        Ok(value)
    }
}

/// One step of the patterns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Node {
    /// A pattern ends here: keep the whole value.
    whole: bool,
    /// The next tokens; [`ANY`] for any member or element. Few per node,
    /// so a vector searched in order is the cheapest map.
    children: Vec<(&'static str, Rc<Node>)>,
}

impl Node {
    fn child(&mut self, token: &'static str) -> &mut Rc<Node> {
        let at = match self.children.iter().position(|(key, _)| *key == token) {
            Some(at) => at,
            None => {
                self.children.push((token, Rc::default()));
                self.children.len() - 1
            }
        };
        &mut self.children[at].1
    }

    /// Adds what `other` reaches to `into`, sharing nodes where `into` has
    /// none yet.
    fn merge(into: &mut Rc<Node>, other: &Rc<Node>) {
        if Rc::ptr_eq(into, other) {
            return;
        }
        if !into.whole && into.children.is_empty() {
            *into = Rc::clone(other);
            return;
        }
        let node = Rc::make_mut(into);
        node.whole |= other.whole;
        for (key, child) in &other.children {
            Node::merge(node.child(key), child);
        }
    }

    /// Copies what `*` reaches into each named sibling, so the one child a
    /// member picks has everything that applies to it.
    fn spread_wildcards(node: &mut Rc<Node>) {
        if !node.has_wildcard_with_siblings() {
            return;
        }
        let node = Rc::make_mut(node);
        let any = node.member_named(ANY).cloned();
        for (key, child) in &mut node.children {
            if let Some(any) = &any
                && *key != ANY
            {
                Node::merge(child, any);
            }
            Node::spread_wildcards(child);
        }
    }

    fn has_wildcard_with_siblings(&self) -> bool {
        (self.children.len() > 1 && self.member_named(ANY).is_some())
            || self
                .children
                .iter()
                .any(|(_, child)| child.has_wildcard_with_siblings())
    }

    fn member_named(&self, key: &str) -> Option<&Rc<Node>> {
        self.children
            .iter()
            .find(|(name, _)| *name == key)
            .map(|(_, node)| node)
    }

    /// The step for member `key`, if any pattern goes there.
    fn member(&self, key: &str) -> Option<&Node> {
        self.member_named(key)
            .or_else(|| self.member_named(ANY))
            .map(|node| &**node)
    }
}

/// Reads one value as far as its node says.
enum Projection<'a> {
    /// The AdmissionRequest: `object` and `oldObject` by the node, the rest whole.
    Request(&'a Node),
    /// A value below the object.
    Value(&'a Node),
}

impl<'de> DeserializeSeed<'de> for Projection<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, reader: D) -> Result<Value, D::Error> {
        match self {
            Projection::Value(node) if node.whole => Value::deserialize(reader),
            _ => reader.deserialize_any(self),
        }
    }
}

impl<'de> Visitor<'de> for Projection<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut members: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = members.next_key_seed(Key)? {
            let step = match self {
                Projection::Request(object) => match &*key {
                    "object" | "oldObject" => Some(Projection::Value(object)),
                    _ => None,
                },
                Projection::Value(node) => match node.member(&key) {
                    Some(node) => Some(Projection::Value(node)),
                    None => {
                        members.next_value::<IgnoredAny>()?;
                        continue;
                    }
                },
            };
            let value = match step {
                Some(step) => members.next_value_seed(step)?,
                None => members.next_value::<Value>()?,
            };
            kept.insert(key.into_owned(), value);
        }
        Ok(Value::Object(kept))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut elements: A) -> Result<Value, A::Error> {
        let element = match self {
            Projection::Value(node) => node.member(ANY),
            Projection::Request(_) => None,
        };
        let mut kept = Vec::new();
        loop {
            let next = match element {
                Some(node) => elements.next_element_seed(Projection::Value(node))?,
                None => elements.next_element::<Value>()?,
            };
            match next {
                Some(value) => kept.push(value),
                None => return Ok(Value::Array(kept)),
            }
        }
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
        Ok(Value::String(value.to_owned()))
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

/// A member name, borrowed from the input when it has no escapes (most
/// skipped members then cost no allocation).
struct Key;

impl<'de> DeserializeSeed<'de> for Key {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        reader.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key {
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
mod tests;
