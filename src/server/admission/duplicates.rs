//! Finding a member name given twice in one JSON object.
//!
//! JSON readers disagree about `{"a": 1, "a": 2}` (the first wins, the last
//! wins, or an error), and the API server never sends such a thing, so an
//! AdmissionReview that has one is refused rather than read one way here and
//! another way by a policy. The reads of the review path refuse such a
//! body as they go (`crate::request`'s `unique.rs`), without saying where;
//! this lexical pass over the bytes, run only then, finds where for the
//! message.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

/// Objects with more members than this are checked through a hash set;
/// smaller ones by comparing with each name seen (cheaper for the few
/// members most objects have).
const LINEAR_MEMBERS: usize = 16;

/// The bytes the scan stops at; everything else is skipped.
static STRUCTURAL: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    let stops = *b"\"{}[],";
    while i < stops.len() {
        table[stops[i] as usize] = true;
        i += 1;
    }
    table
};

/// A member name given twice in one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DuplicateKey {
    /// Where the object is, from the top of the document
    /// (`request.object.metadata`); empty for the top-level object.
    pub path: String,
    /// The name given twice.
    pub key: String,
}

/// One open object or array.
enum Frame<'a> {
    Object {
        /// Where its names start in [`Scanner::names`] (while it is small).
        first_name: usize,
        /// Its names, once it has more than [`LINEAR_MEMBERS`].
        large: Option<HashSet<Cow<'a, [u8]>>>,
        /// The member being read, for the path.
        current: Option<Cow<'a, [u8]>>,
        /// Whether the next string is a member name.
        expects_name: bool,
    },
    Array {
        /// The element being read, for the path.
        index: usize,
    },
}

struct Scanner<'a> {
    bytes: &'a [u8],
    frames: Vec<Frame<'a>>,
    /// The names of the open small objects, innermost last.
    names: Vec<Cow<'a, [u8]>>,
}

/// The first member name given twice in one object of `json`, if any.
///
/// Meant for JSON that a parser accepts; on anything else it stops without
/// a finding (never panics) and leaves the error to the parser.
pub fn find_duplicate_key(json: &[u8]) -> Option<DuplicateKey> {
    let mut scanner = Scanner {
        bytes: json,
        frames: Vec::new(),
        names: Vec::new(),
    };
    scanner.scan()
}

impl<'a> Scanner<'a> {
    fn scan(&mut self) -> Option<DuplicateKey> {
        let bytes = self.bytes;
        let mut at = 0;
        while at < bytes.len() {
            if !STRUCTURAL[usize::from(bytes[at])] {
                // Numbers, literals and whitespace.
                at += 1;
                continue;
            }
            match bytes[at] {
                b'"' => {
                    let end = string_end(bytes, at + 1)?;
                    if let Some(Frame::Object { expects_name, .. }) = self.frames.last_mut()
                        && *expects_name
                    {
                        *expects_name = false;
                        let name = &bytes[at + 1..end];
                        let name = if name.contains(&b'\\') {
                            Cow::Owned(unescape(&bytes[at..=end])?)
                        } else {
                            Cow::Borrowed(name)
                        };
                        if !self.add_name(name) {
                            return Some(self.duplicate());
                        }
                    }
                    at = end + 1;
                    continue;
                }
                b'{' => self.frames.push(Frame::Object {
                    first_name: self.names.len(),
                    large: None,
                    current: None,
                    expects_name: true,
                }),
                b'[' => self.frames.push(Frame::Array { index: 0 }),
                b'}' | b']' => {
                    if let Some(Frame::Object { first_name, .. }) = self.frames.pop() {
                        self.names.truncate(first_name);
                    }
                }
                b',' => match self.frames.last_mut() {
                    Some(Frame::Object { expects_name, .. }) => *expects_name = true,
                    Some(Frame::Array { index }) => *index += 1,
                    None => {}
                },
                _ => {}
            }
            at += 1;
        }
        None
    }

    /// Records a member name of the innermost object; false when it has it
    /// already.
    fn add_name(&mut self, name: Cow<'a, [u8]>) -> bool {
        let Some(Frame::Object {
            first_name,
            large,
            current,
            ..
        }) = self.frames.last_mut()
        else {
            return true;
        };
        *current = Some(name.clone());
        if let Some(set) = large {
            return set.insert(name);
        }
        let seen = &self.names[*first_name..];
        if seen.contains(&name) {
            return false;
        }
        if seen.len() < LINEAR_MEMBERS {
            self.names.push(name);
        } else {
            let mut set: HashSet<Cow<'a, [u8]>> = self.names.drain(*first_name..).collect();
            set.insert(name);
            *large = Some(set);
        }
        true
    }

    /// The finding for the name just read (the innermost object's current
    /// member), with the path of its object.
    fn duplicate(&self) -> DuplicateKey {
        let mut path = String::new();
        let (parents, innermost) = self.frames.split_at(self.frames.len().saturating_sub(1));
        for frame in parents {
            match frame {
                Frame::Object {
                    current: Some(name),
                    ..
                } => push_member(&mut path, &String::from_utf8_lossy(name)),
                Frame::Object { current: None, .. } => {}
                Frame::Array { index } => {
                    let _ = write!(path, "[{index}]");
                }
            }
        }
        let key = match innermost.first() {
            Some(Frame::Object {
                current: Some(name),
                ..
            }) => String::from_utf8_lossy(name).into_owned(),
            _ => String::new(),
        };
        DuplicateKey { path, key }
    }
}

/// `name` appended to a dotted path: `.name`, or `["a.b"]` for a name that
/// would not read back as one member.
fn push_member(path: &mut String, name: &str) {
    let plain = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(name);
    } else {
        let _ = write!(path, "[{name:?}]");
    }
}

/// The index of the quote that closes the string whose text starts at
/// `from`; `None` when it is not closed. Strings are most of a body, so
/// they are skipped eight bytes at a time.
fn string_end(bytes: &[u8], mut from: usize) -> Option<usize> {
    loop {
        while let Some(chunk) = bytes.get(from..from + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let word = u64::from_le_bytes(word);
            if has_byte(word, b'"') | has_byte(word, b'\\') != 0 {
                break;
            }
            from += 8;
        }
        match bytes.get(from)? {
            b'"' => return Some(from),
            b'\\' => from += 2,
            _ => from += 1,
        }
    }
}

/// Non-zero when a byte of `word` is `byte` (the classic bit trick: a byte
/// that is zero after the XOR borrows in the subtraction).
fn has_byte(word: u64, byte: u8) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let zero_where_equal = word ^ (ONES * u64::from(byte));
    zero_where_equal.wrapping_sub(ONES) & !zero_where_equal & HIGHS
}

/// The text of a quoted JSON string with escapes, as UTF-8 bytes (rare in
/// member names, so the plain parser does it).
fn unescape(quoted: &[u8]) -> Option<Vec<u8>> {
    serde_json::from_slice::<String>(quoted)
        .ok()
        .map(String::into_bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(json: &str) -> Option<(String, String)> {
        find_duplicate_key(json.as_bytes()).map(|d| (d.path, d.key))
    }

    fn some(path: &str, key: &str) -> Option<(String, String)> {
        Some((path.to_owned(), key.to_owned()))
    }

    #[test]
    fn finds_a_name_given_twice_wherever_it_is() {
        assert_eq!(found(r#"{"a":1,"b":2,"a":3}"#), some("", "a"));
        assert_eq!(
            found(r#"{"request":{"object":{"metadata":{"name":"x","labels":{},"name":"y"}}}}"#),
            some("request.object.metadata", "name")
        );
        assert_eq!(
            found(r#"{"spec":{"containers":[{"name":"a"},{"name":"b","image":"i","name":"c"}]}}"#),
            some("spec.containers[1]", "name")
        );
        assert_eq!(
            found(r#"{"labels":{"app.kubernetes.io/name":{"x":1,"x":2}}}"#),
            some(r#"labels["app.kubernetes.io/name"]"#, "x")
        );
        // An escape spells the same name.
        assert_eq!(found(r#"{"kind":1,"\u006bind":2}"#), some("", "kind"));
        // Past the linear search, in a large object.
        let many: Vec<String> = (0..100).map(|i| format!("\"k{i}\":{i}")).collect();
        assert_eq!(
            found(&format!("{{{},\"k57\":0}}", many.join(","))),
            some("", "k57")
        );
        assert_eq!(found(&format!("{{{}}}", many.join(","))), None);
    }

    #[test]
    fn the_same_name_in_different_objects_is_fine() {
        for json in [
            r#"{"a":{"a":{"a":1}},"b":[{"a":1},{"a":2}],"c":"a"}"#,
            r#"{"a":"\"a\":","b":"a"}"#,
            r#"{"a":[],"b":{},"c":[[{"a":1}],{"b":2}]}"#,
            r#"{"\"":1,"\\":2}"#,
        ] {
            assert_eq!(found(json), None, "{json}");
        }
    }

    #[test]
    fn never_panics_on_broken_input() {
        for json in [
            "",
            "{",
            "}",
            "]]]",
            r#"{"a"#,
            r#"{"a\"#,
            r#"{"a":1,"a"#,
            r#"{"\ud800":1}"#,
            "[,,]",
        ] {
            let _ = find_duplicate_key(json.as_bytes());
        }
        assert_eq!(found(r#"{"a":1,"a""#), some("", "a"));
    }
}
