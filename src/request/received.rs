//! A request as the webhook reads it off the wire: the object's identity
//! up front, the rest of it only where and when it is needed.
//!
//! Policies get the request JSON as received, so the host needs little of
//! the object itself: its identity (for matching and for naming it), and
//! the shape along the pointers of the findings (to name fields). Building
//! the whole tree of a large object would cost more than everything else
//! around the policies in a review.

use std::borrow::Cow;

use counsel_edit::{Reads, pointer};
use serde_json::Value;

use super::Request;

/// What identifies an object: all that is read of it up front.
const IDENTITY: [&str; 7] = [
    "kind",
    "apiVersion",
    "metadata/name",
    "metadata/generateName",
    "metadata/namespace",
    "metadata/labels",
    // For the Events about the object (the API server fills it in before
    // validating admission, so a CREATE has it too).
    "metadata/uid",
];

thread_local! {
    /// [`IDENTITY`] as reads, built once per thread (reads are cheap to
    /// clone: their nodes are shared).
    static IDENTITY_READS: Reads = Reads::only(IDENTITY);
}

/// An AdmissionRequest as read off the wire: the JSON exactly as received,
/// which is what policies get, and the request read from it with of its
/// objects only what identifies them. Both are fixed when it is read, so
/// they cannot disagree; a request to change is made whole first
/// ([`Received::whole`]) and is then a plain [`Request`].
#[derive(Debug, Clone)]
pub struct Received {
    json: String,
    identity: Request,
}

impl Received {
    /// The text of [`Received::read`]'s error when an object has a member
    /// name twice.
    pub const DUPLICATE_NAME: &str = unique::DUPLICATE;

    /// Reads an AdmissionRequest from `json`, keeping of its objects only
    /// their identity, and `json` itself. An object anywhere in it that has
    /// a member name twice is an error (see [`Received::DUPLICATE_NAME`]).
    pub fn read(json: &str) -> serde_json::Result<Received> {
        // One pass that also refuses a member name given twice anywhere.
        let read = unique::read_request(json)?;
        Ok(Received {
            identity: serde_json::from_value(read)?,
            json: json.to_owned(),
        })
    }

    /// The request's fields, with of `object` and `old_object` only what
    /// identifies them: kind, apiVersion, name, generateName, namespace and
    /// labels.
    pub fn request(&self) -> &Request {
        &self.identity
    }

    /// The JSON as received: what policies get.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The request with its objects whole, read again from the JSON.
    pub fn whole(&self) -> serde_json::Result<Request> {
        serde_json::from_str(&self.json)
    }

    /// The [subject](Request::subject), with at least its identity and,
    /// along each of `pointers`, what tells arrays from objects: enough to
    /// name the fields they point at.
    pub fn subject_reaching<'a>(
        &self,
        pointers: impl IntoIterator<Item = &'a str>,
    ) -> Option<Cow<'_, Value>> {
        let subject = self.identity.subject();
        let json = &self.json;
        let mut reads = IDENTITY_READS.with(Reads::clone);
        let mut numbered = false;
        for path in pointers {
            let Ok(tokens) = pointer::tokens(path) else {
                continue;
            };
            // A field's name depends on the object only where a token is a
            // number: an array index, or the name of a member. So the path
            // is read up to its last number, which is read as `*` (every
            // element, or every member: a few more than needed, harmless).
            let Some(last) = tokens.iter().rposition(|token| is_index(token)) else {
                continue;
            };
            numbered = true;
            reads.reach(tokens.into_iter().take(last + 1).map(|token| {
                if is_index(&token) {
                    "*".to_owned()
                } else {
                    token
                }
            }));
        }
        if !numbered {
            // The identity names every field already.
            return subject.map(Cow::Borrowed);
        }
        let member = if self.identity.object.is_some() {
            "object"
        } else {
            "oldObject"
        };
        match reads.finish().read_member(json, member) {
            Ok(read) => read.map(Cow::Owned),
            // It was read once already; should it fail now, the identity
            // still names most fields right.
            Err(_) => subject.map(Cow::Borrowed),
        }
    }
}

/// Whether a pointer token could be an array index.
fn is_index(token: &str) -> bool {
    token == "-" || token.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
mod unique;

pub(crate) use unique::UniqueSkip;
