//! A cursor over the submitted object: a [`Node`] is a value (or its
//! absence) together with its JSON Pointer, and its typed reads record a
//! wrongly typed field in the [`Findings`] of the evaluation instead of
//! failing or guessing.
//!
//! Counsel hands a policy the JSON the developer wrote, before the API
//! server decodes it, so any field can have any type. A typed read returns
//! the value when it has the type asked for; `None` when the field is
//! missing or `null` (Kubernetes' *nil*); and `None` when it has another
//! type, after recording one `invalid-field` violation for it in the sink
//! (one per pointer, however many rules read the field). Nothing is dropped
//! silently, and no rule needs to handle a bad type: the object fails on the
//! `invalid-field` violation either way.
//!
//! A node can stand for a field that is missing: [`Node::field`] of a missing
//! member (or of a member of something that is not an object) is an absent
//! node at the member's pointer. That is where a violation about a missing
//! field points, and where its fix sets it.
//!
//! ```
//! use counsel_policy::{json, violation, Findings, Node, Rule};
//!
//! const PRIVILEGED: Rule = Rule::new("privileged", "No privileged containers", "...");
//!
//! let object = json!({"spec": {"containers": [{"securityContext": {"privileged": true}}]}});
//! let mut out = Findings::default();
//! for container in Node::root(&object).field("spec").field("containers").objects(&mut out) {
//!     let field = container.field("securityContext").field("privileged");
//!     if field.bool(&mut out) == Some(true) {
//!         out.push(violation(&PRIVILEGED).at(&field).message("runs privileged").fix_to(false));
//!     }
//! }
//! let v = &out.violations()[0];
//! assert_eq!(v.path, "/spec/containers/0/securityContext/privileged");
//! assert_eq!(v.found, Some(json!(true)));
//!
//! // A wrongly typed field is one `invalid-field` violation, and reads as absent.
//! let object = json!({"spec": {"hostNetwork": "yes"}});
//! let mut out = Findings::default();
//! let spec = Node::root(&object).field("spec");
//! assert_eq!(spec.field("hostNetwork").bool(&mut out), None);
//! assert_eq!(spec.field("hostNetwork").bool(&mut out), None);
//! assert_eq!(out.violations().len(), 1);
//! assert_eq!(out.violations()[0].message, "`/spec/hostNetwork` must be a boolean, but it is a string");
//! ```

use std::cell::OnceCell;
use std::rc::Rc;

use serde_json::Value;

use crate::field::Object;
use crate::findings::Findings;
use crate::quantity::Quantity;
use crate::verdict::invalid_field;
use crate::{INVALID_FIELD, pointer};
use counsel_contract::Place;

/// A value of the submitted object (or its absence) and its JSON Pointer.
///
/// The pointer is written out only when asked for (most fields a rule reads
/// are never reported), and then once per node: a node keeps its parent's
/// pointer, shared, and its own token.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    value: Option<&'a Value>,
    /// The parent's pointer (the node's own when `token` is `None`).
    parent: Rc<str>,
    token: Token<'a>,
    /// `parent` and `token` joined, once asked for.
    pointer: OnceCell<Rc<str>>,
}

/// The last reference token of a node's pointer, not yet escaped.
#[derive(Debug, Clone, Copy)]
enum Token<'a> {
    None,
    Key(&'a str),
    Index(usize),
}

impl<'a> Node<'a> {
    /// The root of an object (pointer `""`).
    pub fn root(value: &'a Value) -> Node<'a> {
        Node::new(Some(value), String::new())
    }

    /// The value at `pointer`; `None` (or `null`) stands for a missing field.
    pub fn new(value: Option<&'a Value>, pointer: impl Into<String>) -> Node<'a> {
        Node {
            value: value.filter(|value| !value.is_null()),
            parent: Rc::from(pointer.into()),
            token: Token::None,
            pointer: OnceCell::new(),
        }
    }

    /// The node's RFC 6901 JSON Pointer from the root of the object.
    pub fn pointer(&self) -> &str {
        self.shared_pointer()
    }

    fn shared_pointer(&self) -> &Rc<str> {
        let join = |token: &str| Rc::from(pointer::push(&self.parent, token));
        match self.token {
            Token::None => &self.parent,
            Token::Key(key) => self.pointer.get_or_init(|| join(key)),
            Token::Index(index) => self.pointer.get_or_init(|| join(&index.to_string())),
        }
    }

    fn child(&self, value: Option<&'a Value>, token: Token<'a>) -> Node<'a> {
        Node {
            value: value.filter(|value| !value.is_null()),
            parent: Rc::clone(self.shared_pointer()),
            token,
            pointer: OnceCell::new(),
        }
    }

    /// The value, unless the field is missing or `null`.
    pub fn value(&self) -> Option<&'a Value> {
        self.value
    }

    /// Whether the field is present (and not `null`).
    pub fn is_set(&self) -> bool {
        self.value.is_some()
    }

    /// Whether this is an object with member `key` set (not `null`); cheaper
    /// than [`field`](Self::field) when only presence matters.
    pub fn has(&self, key: &str) -> bool {
        self.value
            .and_then(|value| value.get(key))
            .is_some_and(|member| !member.is_null())
    }

    /// Member `key` of this object; absent when this is not an object or
    /// has no such member (reading it through a typed read reports nothing:
    /// a wrongly typed parent is reported where it is read). `key` is a
    /// literal or a key read from the object; for another, see
    /// [`Node::new`].
    pub fn field(&self, key: &'a str) -> Node<'a> {
        self.child(self.value.and_then(|value| value.get(key)), Token::Key(key))
    }

    /// Element `index` of this array; absent when there is none.
    pub fn index(&self, index: usize) -> Node<'a> {
        self.child(
            self.value.and_then(|value| value.get(index)),
            Token::Index(index),
        )
    }

    /// The value as a boolean.
    pub fn bool(&self, out: &mut Findings) -> Option<bool> {
        self.typed(out, "a boolean", Value::as_bool)
    }

    /// The value as a string.
    pub fn str(&self, out: &mut Findings) -> Option<&'a str> {
        self.typed(out, "a string", Value::as_str)
    }

    /// The value as an integer.
    pub fn int(&self, out: &mut Findings) -> Option<i64> {
        self.typed(out, "an integer", Value::as_i64)
    }

    /// The value as an object's members.
    pub fn map(&self, out: &mut Findings) -> Option<&'a Object> {
        self.typed(out, "an object", Value::as_object)
    }

    /// This node when it is an object; `None` when missing or (reported) of
    /// another type.
    pub fn object(&self, out: &mut Findings) -> Option<Node<'a>> {
        self.map(out).map(|_| self.clone())
    }

    /// This node when it is an object; otherwise (reported when of another
    /// type) an absent node at the same pointer, through which every read
    /// is absent.
    pub fn as_object(&self, out: &mut Findings) -> Node<'a> {
        match self.map(out) {
            Some(_) => self.clone(),
            None => Node {
                value: None,
                ..self.clone()
            },
        }
    }

    /// The elements of this array, each a node; none when the array is
    /// missing or (reported) of another type.
    pub fn items(&self, out: &mut Findings) -> Vec<Node<'a>> {
        let items = self.typed(out, "an array", Value::as_array);
        items
            .map(|items| (0..items.len()).map(|i| self.index(i)).collect())
            .unwrap_or_default()
    }

    /// The elements of this array that are objects; the others are reported.
    pub fn objects(&self, out: &mut Findings) -> Vec<Node<'a>> {
        let mut items = self.items(out);
        items.retain(|item| item.object(out).is_some());
        items
    }

    /// The elements of this array that are strings, with their nodes; the
    /// others are reported.
    pub fn strings(&self, out: &mut Findings) -> Vec<(Node<'a>, &'a str)> {
        self.items(out)
            .into_iter()
            .filter_map(|item| item.str(out).map(|text| (item, text)))
            .collect()
    }

    /// The value as a Kubernetes [`Quantity`]: a string (`500m`, `1Gi`;
    /// spaces around it ignored) or a number, as the API server reads one.
    /// One that is not a quantity is reported as `invalid-field`, naming
    /// what is wrong with it.
    pub fn quantity(&self, out: &mut Findings) -> Option<Quantity> {
        let value = self.value?;
        let parsed = match value {
            Value::String(text) => text.trim().parse::<Quantity>(),
            Value::Number(number) => number.to_string().parse::<Quantity>(),
            other => {
                out.push(invalid_field(self.pointer(), other, "a quantity"));
                return None;
            }
        };
        parsed
            .map_err(|err| {
                out.push(
                    crate::violation(&INVALID_FIELD)
                        .at(self)
                        .message(format!(
                            "`{}` must be a quantity, but {err}",
                            self.pointer()
                        ))
                        .hint(
                            "Kubernetes expects a quantity here: a number with an optional \
                             suffix, such as 500m, 1.5, 128Mi, 2Gi or 1e3.",
                        ),
                )
            })
            .ok()
    }

    /// A map of strings (`labels`, `annotations`, `nodeSelector`), sorted
    /// by key. Kubernetes reads `key: null` in such a map as `""`; entries
    /// of another type are reported and left out.
    pub fn string_map(&self, out: &mut Findings) -> StringMap<'a> {
        let mut entries = Vec::new();
        for (key, value) in self.map(out).into_iter().flatten() {
            let node = self.field(key);
            let value = match value {
                Value::String(text) => text.as_str(),
                Value::Null => "",
                other => {
                    out.push(invalid_field(node.pointer(), other, "a string"));
                    continue;
                }
            };
            entries.push(Entry { key, value, node });
        }
        // serde_json keeps members sorted unless `preserve_order` is on.
        entries.sort_by(|a, b| a.key.cmp(b.key));
        StringMap { entries }
    }

    /// `metadata.labels` of this object.
    pub fn labels(&self, out: &mut Findings) -> StringMap<'a> {
        self.field("metadata").field("labels").string_map(out)
    }

    /// `metadata.annotations` of this object.
    pub fn annotations(&self, out: &mut Findings) -> StringMap<'a> {
        self.field("metadata").field("annotations").string_map(out)
    }

    fn typed<T>(
        &self,
        out: &mut Findings,
        expected: &str,
        read: impl FnOnce(&'a Value) -> Option<T>,
    ) -> Option<T> {
        let value = self.value?;
        let typed = read(value);
        if typed.is_none() {
            out.push(invalid_field(self.pointer(), value, expected));
        }
        typed
    }
}

/// Nodes are equal when their values and pointers are.
impl PartialEq for Node<'_> {
    fn eq(&self, other: &Node<'_>) -> bool {
        self.value == other.value && self.pointer() == other.pointer()
    }
}

/// A violation is at the node, with the value found there.
impl From<&Node<'_>> for Place {
    fn from(node: &Node<'_>) -> Place {
        Place {
            pointer: node.pointer().to_owned(),
            found: Some(node.value.cloned()),
        }
    }
}

/// A fix's pointer (`fix_set(&node, ...)`, `fix_remove(&node)`).
impl From<&Node<'_>> for String {
    fn from(node: &Node<'_>) -> String {
        node.pointer().to_owned()
    }
}

/// A map of strings read by [`Node::string_map`], sorted by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StringMap<'a> {
    entries: Vec<Entry<'a>>,
}

/// One entry of a [`StringMap`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry<'a> {
    /// The key.
    pub key: &'a str,
    /// The value (`""` for `null`).
    pub value: &'a str,
    /// The entry's node (`/metadata/labels/app`).
    pub node: Node<'a>,
}

impl<'a> StringMap<'a> {
    /// The entry of `key`.
    pub fn get(&self, key: &str) -> Option<&Entry<'a>> {
        self.entries
            .binary_search_by(|entry| entry.key.cmp(key))
            .ok()
            .map(|at| &self.entries[at])
    }

    /// The value of `key`.
    pub fn value(&self, key: &str) -> Option<&'a str> {
        self.get(key).map(|entry| entry.value)
    }

    /// Every entry, by key.
    pub fn iter(&self) -> std::slice::Iter<'_, Entry<'a>> {
        self.entries.iter()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'s, 'a> IntoIterator for &'s StringMap<'a> {
    type Item = &'s Entry<'a>;
    type IntoIter = std::slice::Iter<'s, Entry<'a>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests;
