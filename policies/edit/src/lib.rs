//! The one fix model of Counsel.
//!
//! A policy describes how to fix a violation as a list of [`Edit`]s: set the
//! value at an RFC 6901 JSON Pointer, or remove it. The same type is used on
//! both sides of the contract: policies build edits (through the
//! `counsel-policy` SDK), and the host applies them with [`apply`] to show the
//! developer a fixed manifest.
//!
//! The crate also holds what both sides need to read objects by pointer:
//! [`pointer`], [`field`] (a pointer as a developer reads it) and [`Reads`],
//! which reads only the parts of an object a reader names.
//!
//! ```
//! use counsel_edit::{apply, Edit};
//! use serde_json::json;
//!
//! let mut pod = json!({"spec": {"containers": [{"name": "app"}]}});
//! apply(&mut pod, &[
//!     Edit::set("/spec/containers/0/securityContext/privileged", json!(false)),
//!     Edit::set("/metadata/labels/app.kubernetes.io~1name", json!("web")),
//! ])?;
//! assert_eq!(pod, json!({
//!     "metadata": {"labels": {"app.kubernetes.io/name": "web"}},
//!     "spec": {"containers": [{"name": "app", "securityContext": {"privileged": false}}]},
//! }));
//! # Ok::<(), counsel_edit::EditError>(())
//! ```

pub mod field;
pub mod pointer;
pub mod reads;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub use pointer::PointerError;
pub use reads::Reads;

/// One machine-applicable edit of an object.
///
/// Serialised as `{"op":"set","path":..,"value":..}` or
/// `{"op":"remove","path":..}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Edit {
    /// Set the value at `path`, creating missing parent objects. The last
    /// token may be `-` (or the array's length) to append to an array.
    Set {
        /// RFC 6901 JSON Pointer into the object.
        path: String,
        /// The new value.
        value: Value,
    },
    /// Remove the value at `path` (an object member or an array element).
    /// Removing something absent changes nothing.
    Remove {
        /// RFC 6901 JSON Pointer into the object.
        path: String,
    },
}

impl Edit {
    /// An edit setting `path` to `value`.
    pub fn set(path: impl Into<String>, value: Value) -> Edit {
        Edit::Set {
            path: path.into(),
            value,
        }
    }

    /// An edit removing `path`.
    pub fn remove(path: impl Into<String>) -> Edit {
        Edit::Remove { path: path.into() }
    }

    /// The JSON Pointer this edit changes.
    pub fn path(&self) -> &str {
        match self {
            Edit::Set { path, .. } | Edit::Remove { path } => path,
        }
    }
}

/// Why an edit could not be applied. Every variant names the edit's pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The edit's path is not a JSON Pointer.
    #[error(transparent)]
    Pointer(#[from] PointerError),
    /// The path runs through a value that has no members.
    #[error("cannot {op} `{pointer}`: `{at}` is {found}, not an object or array")]
    NotAContainer {
        /// `"set"` or `"remove"`.
        op: &'static str,
        /// The edit's path.
        pointer: String,
        /// Pointer to the value in the way.
        at: String,
        /// What that value is (`a string`, `a number`, ...).
        found: &'static str,
    },
    /// A token used on an array is not an array index.
    #[error("cannot {op} `{pointer}`: `{token}` is not an index into the array at `{at}`")]
    NotAnIndex {
        /// `"set"` or `"remove"`.
        op: &'static str,
        /// The edit's path.
        pointer: String,
        /// Pointer to the array.
        at: String,
        /// The offending token.
        token: String,
    },
    /// An index past the end of an array (only the length itself appends).
    #[error(
        "cannot set `{pointer}`: index {index} is past the end of the array at `{at}` (length {len})"
    )]
    OutOfRange {
        /// The edit's path.
        pointer: String,
        /// Pointer to the array.
        at: String,
        /// The index asked for.
        index: usize,
        /// The array's length.
        len: usize,
    },
    /// The empty pointer names the whole object, which cannot be removed.
    #[error("cannot remove ``: the empty pointer is the whole object")]
    RemoveRoot,
}

/// Applies `edits` to `object`, in order.
///
/// `Set` creates missing parents as objects (a `null` parent counts as
/// missing, since Kubernetes treats `field:` with no value as absent); inside
/// an array, the token `-` or an index equal to the length appends. `Remove`
/// of something absent is a no-op. A path that runs into a scalar, uses a
/// non-index token on an array, or sets past an array's end is an error naming
/// the pointer.
///
/// On error, the edits before the failing one stay applied; apply to a clone
/// when you need all or nothing.
pub fn apply(object: &mut Value, edits: &[Edit]) -> Result<(), EditError> {
    for edit in edits {
        match edit {
            Edit::Set { path, value } => set(object, path, value.clone())?,
            Edit::Remove { path } => remove(object, path)?,
        }
    }
    Ok(())
}

fn set(object: &mut Value, pointer: &str, value: Value) -> Result<(), EditError> {
    let tokens = pointer::tokens(pointer)?;
    let Some((last, parents)) = tokens.split_last() else {
        *object = value;
        return Ok(());
    };
    let mut current = object;
    let mut at = String::new();
    for token in parents {
        if current.is_null() {
            *current = Value::Object(Map::new());
        }
        current = match current {
            Value::Object(map) => map
                .entry(token.as_str())
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => {
                let index = append_slot(items, token, pointer, &at)?;
                if index == items.len() {
                    items.push(Value::Object(Map::new()));
                }
                &mut items[index]
            }
            other => return Err(not_a_container("set", pointer, at, other)),
        };
        at = pointer::push(&at, token);
    }
    if current.is_null() {
        *current = Value::Object(Map::new());
    }
    match current {
        Value::Object(map) => {
            map.insert(last.clone(), value);
        }
        Value::Array(items) => {
            let index = append_slot(items, last, pointer, &at)?;
            if index == items.len() {
                items.push(value);
            } else {
                items[index] = value;
            }
        }
        other => return Err(not_a_container("set", pointer, at, other)),
    }
    Ok(())
}

fn remove(object: &mut Value, pointer: &str) -> Result<(), EditError> {
    let tokens = pointer::tokens(pointer)?;
    let Some((last, parents)) = tokens.split_last() else {
        return Err(EditError::RemoveRoot);
    };
    let mut current = object;
    let mut at = String::new();
    for token in parents {
        let next = match current {
            Value::Object(map) => map.get_mut(token.as_str()),
            Value::Array(items) => {
                let index = array_index("remove", token, pointer, &at)?;
                items.get_mut(index)
            }
            Value::Null => None,
            other => return Err(not_a_container("remove", pointer, at, other)),
        };
        let Some(next) = next else {
            return Ok(());
        };
        current = next;
        at = pointer::push(&at, token);
    }
    match current {
        Value::Object(map) => {
            // `retain` keeps the other members in order when the host enables
            // serde_json's `preserve_order` (where `remove` would swap them).
            map.retain(|key, _| key != last);
        }
        Value::Array(items) => {
            let index = array_index("remove", last, pointer, &at)?;
            if index < items.len() {
                items.remove(index);
            }
        }
        Value::Null => {}
        other => return Err(not_a_container("remove", pointer, at, other)),
    }
    Ok(())
}

/// The index a `set` token names in `items`: an existing element, or the
/// length (also spelled `-`) to append.
fn append_slot(items: &[Value], token: &str, pointer: &str, at: &str) -> Result<usize, EditError> {
    if token == "-" {
        return Ok(items.len());
    }
    let index = array_index("set", token, pointer, at)?;
    if index > items.len() {
        return Err(EditError::OutOfRange {
            pointer: pointer.to_owned(),
            at: at.to_owned(),
            index,
            len: items.len(),
        });
    }
    Ok(index)
}

/// Parses an RFC 6901 array index: `0` or digits without a leading zero.
fn array_index(op: &'static str, token: &str, pointer: &str, at: &str) -> Result<usize, EditError> {
    let well_formed = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    well_formed
        .then(|| token.parse().ok())
        .flatten()
        .ok_or_else(|| EditError::NotAnIndex {
            op,
            pointer: pointer.to_owned(),
            at: at.to_owned(),
            token: token.to_owned(),
        })
}

fn not_a_container(op: &'static str, pointer: &str, at: String, found: &Value) -> EditError {
    EditError::NotAContainer {
        op,
        pointer: pointer.to_owned(),
        at,
        found: match found {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "an array",
            Value::Object(_) => "an object",
        },
    }
}

#[cfg(test)]
mod tests;
