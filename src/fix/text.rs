//! Text edits at byte offsets, and the few line-level questions an editor
//! asks of YAML text (where a line ends, where a key's `:` is).

/// Replace `start..end` of the text with `text`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct TextEdit {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) text: String,
}

impl TextEdit {
    pub(super) fn replace(start: usize, end: usize, text: impl Into<String>) -> TextEdit {
        TextEdit {
            start,
            end: end.max(start),
            text: text.into(),
        }
    }

    pub(super) fn insert(at: usize, text: impl Into<String>) -> TextEdit {
        TextEdit::replace(at, at, text)
    }

    /// The text with this edit made, or `None` when the edit does not fall
    /// on character boundaries of `text`.
    pub(super) fn apply(&self, text: &str) -> Option<String> {
        let before = text.get(..self.start)?;
        let after = text.get(self.end..)?;
        let mut out = String::with_capacity(before.len() + self.text.len() + after.len());
        out.push_str(before);
        out.push_str(&self.text);
        out.push_str(after);
        Some(out)
    }
}

/// Where the line holding `offset` ends: at its `\r` or `\n`, or the end of
/// the text.
pub(super) fn line_end(text: &str, offset: usize) -> usize {
    let from = offset.min(text.len());
    text.as_bytes()[from..]
        .iter()
        .position(|&b| b == b'\n' || b == b'\r')
        .map_or(text.len(), |i| from + i)
}

/// Where the line holding `offset` starts.
pub(super) fn line_start(text: &str, offset: usize) -> usize {
    let upto = offset.min(text.len());
    text.as_bytes()[..upto]
        .iter()
        .rposition(|&b| b == b'\n' || b == b'\r')
        .map_or(0, |i| i + 1)
}

/// Just past the line break that ends the line holding `offset` (the end of
/// the text on the last line).
pub(super) fn next_line_start(text: &str, offset: usize) -> usize {
    let end = line_end(text, offset);
    let bytes = text.as_bytes();
    match bytes.get(end) {
        Some(b'\r') if bytes.get(end + 1) == Some(&b'\n') => end + 2,
        Some(_) => end + 1,
        None => end,
    }
}

/// Whether only blanks stand between the start of the line and `offset`.
pub(super) fn starts_line(text: &str, offset: usize) -> bool {
    let start = line_start(text, offset);
    text.get(start..offset)
        .is_some_and(|before| before.bytes().all(|b| b == b' ' || b == b'\t'))
}

/// The offset of the `:` that follows a key ending at `key_end` on the same
/// line (blanks may stand between).
pub(super) fn colon_after(text: &str, key_end: usize) -> Option<usize> {
    let rest = text.get(key_end..)?;
    let blanks = rest
        .bytes()
        .take_while(|&b| b == b' ' || b == b'\t')
        .count();
    (rest.as_bytes().get(blanks) == Some(&b':')).then_some(key_end + blanks)
}

/// The line break the text uses: CRLF when its first line break is one.
pub(super) fn newline_of(text: &str) -> &'static str {
    match text.find('\n') {
        Some(i) if i > 0 && text.as_bytes()[i - 1] == b'\r' => "\r\n",
        _ => "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_colons() {
        let text = "a: 1 # c\r\nbb  : 2\nc";
        assert_eq!(line_end(text, 0), 8);
        assert_eq!(next_line_start(text, 3), 10);
        assert_eq!(line_start(text, 12), 10);
        assert_eq!(line_end(text, text.len()), text.len());
        assert_eq!(next_line_start(text, text.len()), text.len());
        assert_eq!(colon_after(text, 12), Some(14));
        assert_eq!(colon_after(text, 0), None);
        assert!(starts_line(text, 10) && !starts_line(text, 13));
        assert_eq!(newline_of(text), "\r\n");
        assert_eq!(newline_of("a\nb\r\n"), "\n");
        let edit = TextEdit::replace(3, 4, "true");
        assert_eq!(edit.apply("a: 1").as_deref(), Some("a: true"));
        assert_eq!(TextEdit::insert(9, "x").apply("a"), None);
    }
}
