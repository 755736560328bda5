//! RFC 6901 JSON Pointers: escaping, building and splitting.
//!
//! A pointer is a string of `/`-prefixed reference tokens; inside a token `~`
//! is written `~0` and `/` is written `~1`. The empty string points at the
//! whole document.

use std::borrow::Cow;

/// A string that is not a valid RFC 6901 JSON Pointer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PointerError {
    /// A non-empty pointer must start with `/`.
    #[error("`{pointer}` is not a JSON Pointer: it must be empty or start with `/`")]
    MissingLeadingSlash {
        /// The pointer as given.
        pointer: String,
    },
    /// `~` may only be followed by `0` or `1`.
    #[error(
        "`{pointer}` is not a JSON Pointer: `~` at byte {offset} must be followed by `0` or `1`"
    )]
    BadEscape {
        /// The pointer as given.
        pointer: String,
        /// Byte offset of the offending `~` in `pointer`.
        offset: usize,
    },
}

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
///
/// ```
/// use counsel_edit::pointer::escape;
/// assert_eq!(escape("example.com/owner"), "example.com~1owner");
/// assert_eq!(escape("name"), "name");
/// ```
pub fn escape(token: &str) -> Cow<'_, str> {
    if token.contains(['~', '/']) {
        Cow::Owned(token.replace('~', "~0").replace('/', "~1"))
    } else {
        Cow::Borrowed(token)
    }
}

/// Appends one (unescaped) token to a pointer.
///
/// ```
/// use counsel_edit::pointer::push;
/// assert_eq!(push("/metadata/annotations", "a/b"), "/metadata/annotations/a~1b");
/// assert_eq!(push("", "spec"), "/spec");
/// ```
pub fn push(pointer: &str, token: &str) -> String {
    let token = escape(token);
    let mut out = String::with_capacity(pointer.len() + 1 + token.len());
    out.push_str(pointer);
    out.push('/');
    out.push_str(&token);
    out
}

/// Splits a pointer into its unescaped reference tokens.
///
/// ```
/// use counsel_edit::pointer::tokens;
/// assert_eq!(tokens("/a~1b/0/~0x").unwrap(), ["a/b", "0", "~x"]);
/// assert!(tokens("").unwrap().is_empty());
/// assert!(tokens("spec").is_err());
/// ```
pub fn tokens(pointer: &str) -> Result<Vec<String>, PointerError> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(PointerError::MissingLeadingSlash {
            pointer: pointer.to_owned(),
        });
    };
    let mut out = Vec::new();
    // Offset of the current token's first byte in `pointer`, for error messages.
    let mut start = 1;
    for raw in rest.split('/') {
        out.push(unescape(raw).map_err(|at| PointerError::BadEscape {
            pointer: pointer.to_owned(),
            offset: start + at,
        })?);
        start += raw.len() + 1;
    }
    Ok(out)
}

/// Splits a pointer into its parent pointer and its last (unescaped) token.
///
/// Returns `None` for the root pointer `""` and for strings that are not
/// valid pointers.
///
/// ```
/// use counsel_edit::pointer::parent;
/// assert_eq!(parent("/spec/a~1b"), Some(("/spec", "a/b".to_string())));
/// assert_eq!(parent("/spec"), Some(("", "spec".to_string())));
/// assert_eq!(parent(""), None);
/// ```
pub fn parent(pointer: &str) -> Option<(&str, String)> {
    if !pointer.starts_with('/') {
        return None;
    }
    let cut = pointer.rfind('/')?;
    let (head, last) = pointer.split_at(cut);
    // The head of a valid pointer is itself valid; check its escapes too.
    if tokens(head).is_err() {
        return None;
    }
    unescape(&last[1..]).ok().map(|token| (head, token))
}

/// Unescapes one token; the error is the byte offset of a bad `~`.
fn unescape(raw: &str) -> Result<String, usize> {
    if !raw.contains('~') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices();
    while let Some((at, c)) = chars.next() {
        if c != '~' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, '0')) => out.push('~'),
            Some((_, '1')) => out.push('/'),
            _ => return Err(at),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_replaces_tilde_before_slash() {
        // `~1` in the input must not turn into `/` on the way back.
        assert_eq!(escape("~1/"), "~01~1");
        assert_eq!(tokens(&push("", "~1/")).unwrap(), ["~1/"]);
    }

    #[test]
    fn tokens_keep_empty_tokens() {
        assert_eq!(tokens("/").unwrap(), [""]);
        assert_eq!(tokens("/a//b").unwrap(), ["a", "", "b"]);
    }

    #[test]
    fn bad_escapes_are_reported_with_their_offset() {
        assert_eq!(
            tokens("/ok/x~2y").unwrap_err(),
            PointerError::BadEscape {
                pointer: "/ok/x~2y".into(),
                offset: 5
            }
        );
        assert_eq!(
            tokens("/a~").unwrap_err().to_string(),
            "`/a~` is not a JSON Pointer: `~` at byte 2 must be followed by `0` or `1`"
        );
    }

    #[test]
    fn missing_slash_is_named() {
        assert_eq!(
            tokens("spec/containers").unwrap_err().to_string(),
            "`spec/containers` is not a JSON Pointer: it must be empty or start with `/`"
        );
    }

    #[test]
    fn parent_of_nested_and_escaped_pointers() {
        assert_eq!(
            parent("/metadata/annotations/example.com~1team"),
            Some(("/metadata/annotations", "example.com/team".to_string()))
        );
        assert_eq!(parent("/a/"), Some(("/a", String::new())));
        assert_eq!(parent("a/b"), None);
        assert_eq!(parent("/a~2/b"), None);
        assert_eq!(parent("/a/b~"), None);
    }
}
