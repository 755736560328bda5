//! Reading only the parts of an object that are needed, so the rest is
//! never built.
//!
//! Turning JSON into a [`Value`] tree costs far more than skipping over it,
//! and most of a real workload is what few readers look at: environment
//! variables, commands, volume mounts, affinity. A policy declares what it
//! reads (`Policy::reads` in the SDK) and gets an object holding only that;
//! the host reads of an object only what it needs to explain the findings.
//!
//! A pattern is a path of tokens from the object, separated by `/`, where
//! `*` stands for any member or array element (`spec/containers/*/image`). A
//! pattern keeps the whole value it reaches. Arrays are never shortened (so
//! indices and pointers stay true): an element no pattern reaches is kept
//! whole. Values of another type than a pattern expects (a string where it
//! expects an object) are kept as they are, so a policy still sees and
//! reports them.
//!
//! What is left out reads as absent, so a reader must name every field it
//! looks at; `counsel_policy::testing` runs each policy test both ways and
//! fails when the verdicts differ.
//!
//! ```
//! use counsel_edit::Reads;
//!
//! let json = r#"{"operation": "CREATE", "kind": {"kind": "Pod"}, "object": {
//!     "kind": "Pod",
//!     "spec": {"containers": [{"name": "app", "image": "app:1", "env": [{"name": "A"}]}]}
//! }}"#;
//! let reads = Reads::only(["kind", "spec/containers/*/image"]);
//! let request = reads.read_members(json, &["object"])?;
//! assert_eq!(
//!     request["object"].to_string(),
//!     r#"{"kind":"Pod","spec":{"containers":[{"image":"app:1"}]}}"#
//! );
//! assert_eq!(request["kind"].to_string(), r#"{"kind":"Pod"}"#);
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;
use std::rc::Rc;

use serde::Deserialize as _;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Stands for any member or array element in a pattern.
const ANY: &str = "*";

/// What of the object a policy reads: everything (the default), or the
/// values some patterns reach (see the module docs).
///
/// A policy builds it anew for every evaluation (an instance lives for
/// one), so it is cheap to build: static tokens are borrowed, and a subtree
/// added in several places ([`Reads::add_at`]) is shared, not copied.
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

    /// No patterns yet: an object read as `{}`. Add some with
    /// [`Reads::add`] and [`Reads::add_at`], then call [`Reads::finish`].
    pub fn nothing() -> Reads {
        Reads {
            object: Some(Rc::default()),
        }
    }

    /// Adds the pattern made of `tokens`, skipping empty ones (none at all:
    /// the whole object).
    pub fn add<T: Into<Token>>(&mut self, tokens: impl IntoIterator<Item = T>) {
        self.walk(tokens, true);
    }

    /// Adds the path of `tokens` without what it leads to: each object on
    /// the way keeps the member on the path, and an object at the end reads
    /// as `{}` (an array there is kept whole, as anywhere no `*` goes). Enough
    /// to tell what is an array and what an object along a pointer.
    pub fn reach<T: Into<Token>>(&mut self, tokens: impl IntoIterator<Item = T>) {
        self.walk(tokens, false);
    }

    fn walk<T: Into<Token>>(&mut self, tokens: impl IntoIterator<Item = T>, whole: bool) {
        let Some(root) = &mut self.object else {
            return;
        };
        let mut node = Rc::make_mut(root);
        let mut any = false;
        for token in tokens.into_iter().map(Into::into) {
            if token.is_empty() {
                continue;
            }
            any = true;
            node = Rc::make_mut(node.child(token));
        }
        if !any {
            if whole {
                self.object = None;
            }
        } else if whole {
            node.whole = true;
        }
    }

    /// Adds `other` below the path of `tokens` (none: at the object),
    /// sharing its nodes.
    pub fn add_at(&mut self, tokens: &[&'static str], other: &Reads) {
        let (Some(root), Some(other)) = (&mut self.object, &other.object) else {
            self.object = None;
            return;
        };
        let mut node = root;
        for token in tokens {
            node = Rc::make_mut(node).child(Token::Borrowed(token));
        }
        Node::merge(node, other);
    }

    /// Makes `*` apply to the members named beside it, once every pattern
    /// is in.
    pub fn finish(mut self) -> Reads {
        if let Some(root) = &mut self.object {
            Node::spread_wildcards(root);
        }
        self
    }

    /// Whether the whole object is read.
    pub fn is_everything(&self) -> bool {
        self.object.is_none()
    }

    /// Reads a JSON document whose `members` are objects to read as these
    /// reads say, every other member whole: `object` and `oldObject` of an
    /// AdmissionRequest.
    pub fn read_members(&self, json: &str, members: &[&str]) -> serde_json::Result<Value> {
        let Some(object) = &self.object else {
            return serde_json::from_str(json);
        };
        let mut reader = serde_json::Deserializer::from_str(json);
        let value = Projection::Members(members, object).deserialize(&mut reader)?;
        reader.end()?;
        Ok(value)
    }

    /// Reads `member` of a JSON document as these reads say and skips the
    /// rest of the document: `object` of an AdmissionRequest alone. `None`
    /// when the document has no such member.
    pub fn read_member(&self, json: &str, member: &str) -> serde_json::Result<Option<Value>> {
        let whole = Node {
            whole: true,
            children: Vec::new(),
        };
        let node = self.object.as_deref().unwrap_or(&whole);
        let mut reader = serde_json::Deserializer::from_str(json);
        let mut value = Projection::Member(member, node).deserialize(&mut reader)?;
        reader.end()?;
        Ok(value.get_mut(member).map(Value::take))
    }
}

/// One step of the patterns.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Node {
    /// A pattern ends here: keep the whole value.
    whole: bool,
    /// The next tokens; [`ANY`] for any member or element. Few per node,
    /// so a vector searched in order is the cheapest map.
    children: Vec<(Token, Rc<Node>)>,
}

/// One token of a pattern: borrowed when static, else owned.
pub type Token = Cow<'static, str>;

impl Node {
    fn child(&mut self, token: Token) -> &mut Rc<Node> {
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
            Node::merge(node.child(key.clone()), child);
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
            .find(|(name, _)| name == key)
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
    /// The document: the named members by the node, the rest whole.
    Members(&'a [&'a str], &'a Node),
    /// The document: the named member by the node, the rest skipped.
    Member(&'a str, &'a Node),
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
                Projection::Members(names, object) => {
                    names.contains(&&*key).then_some(Projection::Value(object))
                }
                Projection::Member(name, object) if name == key => Some(Projection::Value(object)),
                Projection::Member(..) => {
                    members.next_value::<IgnoredAny>()?;
                    continue;
                }
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
            Projection::Members(..) | Projection::Member(..) => None,
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
