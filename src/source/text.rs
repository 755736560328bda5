//! Where things are in the text: byte offsets, lines and columns, and the
//! few places where the parser's spans need a look at the text itself.

use std::cell::Cell;

use super::{Position, Span};

/// Maps the parser's positions (character indexes into the text it was fed)
/// to byte offsets, lines and columns of the original text, in time
/// logarithmic in the text's size and memory linear in its lines and
/// non-ASCII characters (a one-line JSON file of megabytes stays fast).
pub(crate) struct TextIndex<'a> {
    text: &'a str,
    /// Byte offset at which each line starts. The first line starts after a
    /// leading byte order mark, so columns are what an editor shows.
    line_starts: Vec<usize>,
    /// For each character of more than one byte, in text order: its
    /// character index and the byte offset just past it. Empty for ASCII.
    wide: Vec<(usize, usize)>,
    /// Byte offset in `text` of each character index the parser reports (plus
    /// one past the end), when the parser reads a rewritten copy of the text.
    char_offsets: Option<Vec<usize>>,
    /// The line found last: positions are mostly asked for in text order.
    last_line: Cell<usize>,
}

impl<'a> TextIndex<'a> {
    /// Index `text`, which the parser reads unchanged.
    pub(crate) fn new(text: &'a str) -> Self {
        Self::with_offsets(text, None)
    }

    /// Index `text` when the parser reads a rewritten copy of it; `char_offsets`
    /// gives the original byte offset of each character of the copy.
    pub(crate) fn with_offsets(text: &'a str, char_offsets: Option<Vec<usize>>) -> Self {
        let bom = if text.starts_with('\u{feff}') {
            '\u{feff}'.len_utf8()
        } else {
            0
        };
        let bytes = text.as_bytes();
        let mut line_starts = vec![bom];
        for (i, &byte) in bytes.iter().enumerate() {
            // YAML line breaks: LF, CRLF and a lone CR (as the parser counts them).
            let is_break = byte == b'\n' || (byte == b'\r' && bytes.get(i + 1) != Some(&b'\n'));
            if is_break {
                line_starts.push(i + 1);
            }
        }
        let wide = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .enumerate()
                .filter(|(_, (_, c))| !c.is_ascii())
                .map(|(index, (offset, c))| (index, offset + c.len_utf8()))
                .collect()
        };
        TextIndex {
            text,
            line_starts,
            wide,
            char_offsets,
            last_line: Cell::new(0),
        }
    }

    pub(crate) fn text(&self) -> &'a str {
        self.text
    }

    /// Byte offset of the parser's character index `index`.
    pub(crate) fn offset(&self, index: usize) -> usize {
        if let Some(offsets) = &self.char_offsets {
            return offsets.get(index).copied().unwrap_or(self.text.len());
        }
        // Every character after the last wide one before `index` is one byte.
        let before = self.wide.partition_point(|&(at, _)| at < index);
        let offset = match before.checked_sub(1).and_then(|k| self.wide.get(k)) {
            Some(&(at, end)) => end + (index - at - 1),
            None => index,
        };
        offset.min(self.text.len())
    }

    /// Characters before byte offset `offset` (a character boundary).
    fn chars_before(&self, offset: usize) -> usize {
        let before = self.wide.partition_point(|&(_, end)| end <= offset);
        match before.checked_sub(1).and_then(|k| self.wide.get(k)) {
            Some(&(at, end)) => at + 1 + (offset - end),
            None => offset,
        }
    }

    /// Line and column of a byte offset.
    pub(crate) fn position(&self, offset: usize) -> Position {
        let offset = offset.min(self.text.len());
        let starts = &self.line_starts;
        let cached = self.last_line.get();
        let in_cached_line = starts.get(cached).is_some_and(|&start| start <= offset)
            && starts.get(cached + 1).is_none_or(|&next| offset < next);
        let line_index = if in_cached_line {
            cached
        } else {
            let found = starts
                .partition_point(|&start| start <= offset)
                .saturating_sub(1);
            self.last_line.set(found);
            found
        };
        let line_start = starts.get(line_index).copied().unwrap_or(0).min(offset);
        let column = self.chars_before(offset) - self.chars_before(line_start);
        Position {
            offset,
            line: line_index + 1,
            column: column + 1,
        }
    }

    /// Span between two byte offsets.
    pub(crate) fn span(&self, start: usize, end: usize) -> Span {
        Span {
            start: self.position(start),
            end: self.position(end.max(start)),
        }
    }
}

/// Where a block scalar (`|`, `>`) really starts. The parser's span of one
/// without properties starts at its first content line; an editor needs the
/// header (`key: |-`) too. `lower` is where the previous token ended, `content`
/// where the parser says the scalar starts.
pub(crate) fn block_scalar_start(text: &str, lower: usize, content: usize) -> Option<usize> {
    let mut line_end = content;
    loop {
        let before = text.get(..line_end)?;
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let from = line_start.max(lower);
        if from < line_end {
            let portion = text.get(from..line_end)?;
            if !portion.trim().is_empty() {
                return block_scalar_header(portion).map(|at| from + at);
            }
        }
        if line_start == 0 || line_start <= lower {
            return None;
        }
        line_end = line_start - 1;
    }
}

/// Offset in `line` of the block scalar indicator (or of the properties
/// written before it on the same line).
fn block_scalar_header(line: &str) -> Option<usize> {
    let bytes = line.as_bytes();
    let indicator = (0..bytes.len()).find(|&i| {
        let preceded_by_space = i == 0 || matches!(bytes[i - 1], b' ' | b'\t');
        if !preceded_by_space || !matches!(bytes[i], b'|' | b'>') {
            return false;
        }
        let rest = &bytes[i + 1..];
        let modifiers = rest
            .iter()
            .take_while(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-'))
            .count();
        rest.get(modifiers)
            .is_none_or(|b| matches!(b, b' ' | b'\t'))
    })?;
    // Anchors and tags written before the indicator belong to the node.
    let mut start = indicator;
    for token in line[..indicator]
        .split([' ', '\t'])
        .rev()
        .filter(|t| !t.is_empty())
    {
        if !token.starts_with(['&', '!']) {
            break;
        }
        start = token.as_ptr() as usize - line.as_ptr() as usize;
    }
    Some(start)
}

/// Just past the closing quote of the quoted scalar whose node starts at
/// `start` (at its quote, or at an anchor or tag before it). The parser's span
/// runs on over trailing blanks and a comment; `limit` is where it ends.
pub(crate) fn quoted_end(text: &str, start: usize, limit: usize) -> Option<usize> {
    let bytes = text.as_bytes().get(..limit)?;
    let mut i = start;
    // Skip the node's properties (`&anchor`, `!tag`) and the blanks after them.
    while let Some(&b) = bytes.get(i) {
        match b {
            b'&' | b'!' => {
                i += bytes[i..]
                    .iter()
                    .take_while(|b| !b.is_ascii_whitespace())
                    .count()
            }
            b' ' | b'\t' | b'\r' | b'\n' => i += 1,
            _ => break,
        }
    }
    let quote = *bytes.get(i).filter(|&&b| b == b'\'' || b == b'"')?;
    i += 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// Where a block scalar's text ends: after its last non-blank line, not at
/// the next token where the parser puts it.
pub(crate) fn trim_trailing_space(text: &str, floor: usize, end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut end = end.min(bytes.len());
    while end > floor && matches!(bytes[end - 1], b' ' | b'\t' | b'\r' | b'\n') {
        end -= 1;
    }
    end
}

/// Where an empty value goes: right after its `:`, its `-` or its `? key`.
/// The parser puts it at the `:`, or after the blanks, comments and even
/// lines that follow the other two. `floor` is where the previous token ended.
pub(crate) fn empty_value_at(text: &str, at: usize, floor: usize) -> usize {
    if text.as_bytes().get(at) == Some(&b':') {
        return at + 1;
    }
    let floor = floor.min(at);
    let mut end = at.min(text.len());
    loop {
        let Some(before) = text.get(..end) else {
            return at;
        };
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let portion = strip_comment(text.get(line_start..end).unwrap_or_default());
        let trimmed = portion.trim_end_matches([' ', '\t']);
        if !trimmed.is_empty() || line_start <= floor {
            return (line_start + trimmed.len()).max(floor);
        }
        end = line_start - 1;
    }
}

/// Offset of the `?` written before a key on its line (`? key`), which is
/// where the mapping's entries are indented to.
pub(crate) fn explicit_key_indicator(text: &str, key: usize) -> Option<usize> {
    let before = text.get(..key)?.trim_end_matches([' ', '\t']);
    before.ends_with('?').then(|| before.len() - 1)
}

/// Offset of the `-` that introduces the block sequence entry whose value
/// starts at `value`, looking back over blank space and comment-only lines.
pub(crate) fn sequence_dash(text: &str, value: usize) -> Option<usize> {
    let mut end = value;
    let mut first_line = true;
    loop {
        let before = text.get(..end)?;
        let line_start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let mut portion = text.get(line_start..end)?;
        if !first_line {
            portion = strip_comment(portion);
        }
        let trimmed = portion.trim_end_matches([' ', '\t']);
        if !trimmed.is_empty() {
            return trimmed
                .ends_with('-')
                .then(|| line_start + trimmed.len() - 1);
        }
        if line_start == 0 {
            return None;
        }
        end = line_start - 1;
        first_line = false;
    }
}

/// `line` without a trailing `# comment`.
fn strip_comment(line: &str) -> &str {
    let bytes = line.as_bytes();
    match (0..bytes.len())
        .find(|&i| bytes[i] == b'#' && (i == 0 || matches!(bytes[i - 1], b' ' | b'\t')))
    {
        Some(i) => &line[..i],
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_skip_a_leading_bom() {
        let text = "\u{feff}a: é\r\nb: 1\rc";
        let index = TextIndex::new(text);
        // 'a' is the second character: BOM then 'a'.
        let a = index.position(index.offset(1));
        assert_eq!((a.offset, a.line, a.column), (3, 1, 1));
        let after_e = text.find("\r\n").unwrap();
        let e_end = index.position(after_e);
        assert_eq!((e_end.line, e_end.column), (1, 5));
        let b = index.position(text.find('b').unwrap());
        assert_eq!((b.line, b.column), (2, 1));
        let c = index.position(text.find('c').unwrap());
        assert_eq!((c.line, c.column), (3, 1));
        assert_eq!(index.position(usize::MAX).offset, text.len());
    }

    #[test]
    fn block_scalar_header_is_found_after_the_key() {
        let text = "key: &a !!str |-  # note | >\n  body\n";
        let content = text.find("body").unwrap();
        assert_eq!(block_scalar_start(text, 3, content), Some(5));
        let text = "\"a | b\": >2\n\n   x\n";
        let content = text.find('x').unwrap();
        assert_eq!(block_scalar_start(text, 7, content), Some(9));
    }

    #[test]
    fn quoted_scalars_end_at_their_closing_quote() {
        let text = r#"a: 'it''s' # 'c'"#;
        assert_eq!(quoted_end(text, 3, text.len()), Some(10));
        let text = r#"b: &x !!str "q\"\\" , "n""#;
        assert_eq!(quoted_end(text, 3, text.len()), Some(19));
        assert_eq!(quoted_end("c: 'open", 3, 8), None);
        assert_eq!(quoted_end("d: plain", 3, 8), None);
    }

    #[test]
    fn empty_values_go_right_after_their_indicator() {
        assert_eq!(empty_value_at("a: # c\n", 1, 1), 2);
        assert_eq!(empty_value_at("- # comment\n- x", 11, 0), 1);
        assert_eq!(empty_value_at("l:\r\n- \r\n", 7, 2), 5);
        assert_eq!(empty_value_at("? \"k #\" # c\n\n", 13, 8), 8);
    }

    #[test]
    fn dash_is_found_across_comment_lines() {
        let text = "items:\n  - # first\n    # more -\n    name: a\n";
        let value = text.find("name").unwrap();
        assert_eq!(sequence_dash(text, value), Some(9));
        assert_eq!(sequence_dash("- - a", 4), Some(2));
        assert_eq!(sequence_dash("key: a", 5), None);
    }
}
