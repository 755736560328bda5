//! The unified diff of a fixed file, made from the stretches that changed:
//! only their lines are compared, so a long file with many small fixes is
//! diffed in time proportional to its length. The format is `diff -u`'s
//! (three lines of context, `\ No newline at end of file`).

use std::fmt::Write as _;

use similar::{Algorithm, DiffOp};

use super::document::Piece;

/// `--- name`, `+++ name (fixed)` and the hunks turning `old` into `new`,
/// where `new` is `old` with `pieces` (in text order) replaced.
pub(super) fn unified(name: &str, old: &str, new: &str, pieces: &[Piece]) -> String {
    let old_lines = Lines::of(old);
    let new_lines = Lines::of(new);
    // Whole lines around each piece, merged where they share a line; in old
    // offsets, and how much longer the new text is before each block.
    let mut blocks: Vec<(usize, usize, isize)> = Vec::new();
    let mut growth: isize = 0;
    for piece in pieces {
        let start = old_lines.start_of_line_at(piece.old.start);
        let end = old_lines.end_of_line_through(piece.old.start, piece.old.end);
        let before = growth;
        growth += piece.new_len as isize - (piece.old.end - piece.old.start) as isize;
        match blocks.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => blocks.push((start, end, before)),
        }
    }
    // A block ends where both texts start a line (the text after a block is
    // the same in both, so moving its end moves both ends alike).
    let mut index = 0;
    while index < blocks.len() {
        let after = blocks.get(index + 1).map_or(growth, |next| next.2);
        let (start, mut end, before) = blocks[index];
        while end < old.len() && !new_lines.starts_at(end.saturating_add_signed(after)) {
            end = old_lines.next_start(end);
        }
        blocks[index] = (start, end, before);
        if blocks.get(index + 1).is_some_and(|next| next.0 <= end) {
            let next = blocks.remove(index + 1);
            blocks[index].1 = end.max(next.1);
            continue;
        }
        index += 1;
    }
    let mut ops = Vec::new();
    let (mut old_line, mut new_line) = (0, 0);
    for (index, &(start, end, before)) in blocks.iter().enumerate() {
        let after = blocks.get(index + 1).map_or(growth, |next| next.2);
        let new_start = start.saturating_add_signed(before);
        let new_end = end.saturating_add_signed(after);
        let (old_first, old_last) = (old_lines.index_of(start), old_lines.index_of(end));
        let (new_first, new_last) = (new_lines.index_of(new_start), new_lines.index_of(new_end));
        if old_first > old_line {
            push(
                &mut ops,
                DiffOp::Equal {
                    old_index: old_line,
                    new_index: new_line,
                    len: old_first - old_line,
                },
            );
        }
        let old_block: Vec<&str> = (old_first..old_last).map(|i| old_lines.line(i)).collect();
        let new_block: Vec<&str> = (new_first..new_last).map(|i| new_lines.line(i)).collect();
        for op in similar::capture_diff_slices(Algorithm::Myers, &old_block, &new_block) {
            push(&mut ops, shift(op, old_first, new_first));
        }
        (old_line, new_line) = (old_last, new_last);
    }
    if old_lines.count() > old_line {
        push(
            &mut ops,
            DiffOp::Equal {
                old_index: old_line,
                new_index: new_line,
                len: old_lines.count() - old_line,
            },
        );
    }
    let mut out = String::new();
    let groups = similar::group_diff_ops(ops, 3);
    if groups.is_empty() {
        return out;
    }
    let _ = writeln!(out, "--- {name}\n+++ {name} (fixed)");
    for group in groups {
        let _ = writeln!(out, "{}", similar::udiff::UnifiedHunkHeader::new(&group));
        for op in group {
            let (old, new) = (op.old_range(), op.new_range());
            match op {
                DiffOp::Equal { .. } => old.for_each(|i| line(&mut out, ' ', old_lines.line(i))),
                _ => {
                    old.for_each(|i| line(&mut out, '-', old_lines.line(i)));
                    new.for_each(|i| line(&mut out, '+', new_lines.line(i)));
                }
            }
        }
    }
    out
}

/// Appends `op`, merged into the last one when both are equal stretches:
/// hunks are cut to three lines of context only out of a single equal op.
fn push(ops: &mut Vec<DiffOp>, op: DiffOp) {
    if let (Some(DiffOp::Equal { len, .. }), DiffOp::Equal { len: more, .. }) =
        (ops.last_mut(), &op)
    {
        *len += more;
        return;
    }
    ops.push(op);
}

fn line(out: &mut String, tag: char, text: &str) {
    out.push(tag);
    out.push_str(text);
    if !text.ends_with(['\n', '\r']) {
        out.push_str("\n\\ No newline at end of file\n");
    }
}

fn shift(op: DiffOp, old: usize, new: usize) -> DiffOp {
    match op {
        DiffOp::Equal {
            old_index,
            new_index,
            len,
        } => DiffOp::Equal {
            old_index: old_index + old,
            new_index: new_index + new,
            len,
        },
        DiffOp::Delete {
            old_index,
            old_len,
            new_index,
        } => DiffOp::Delete {
            old_index: old_index + old,
            old_len,
            new_index: new_index + new,
        },
        DiffOp::Insert {
            old_index,
            new_index,
            new_len,
        } => DiffOp::Insert {
            old_index: old_index + old,
            new_index: new_index + new,
            new_len,
        },
        DiffOp::Replace {
            old_index,
            old_len,
            new_index,
            new_len,
        } => DiffOp::Replace {
            old_index: old_index + old,
            old_len,
            new_index: new_index + new,
            new_len,
        },
    }
}

/// Where each line of a text starts (after LF, CRLF or a lone CR).
struct Lines<'t> {
    text: &'t str,
    starts: Vec<usize>,
}

impl<'t> Lines<'t> {
    fn of(text: &'t str) -> Self {
        let bytes = text.as_bytes();
        let mut starts = vec![0];
        starts.extend((1..bytes.len()).filter(|&i| starts_line(bytes, i)));
        if text.is_empty() {
            starts.clear();
        }
        Lines { text, starts }
    }

    fn count(&self) -> usize {
        self.starts.len()
    }

    /// The line starting at or holding `offset` (the count past the end).
    fn index_of(&self, offset: usize) -> usize {
        if offset >= self.text.len() {
            return self.count();
        }
        self.starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1)
    }

    fn line(&self, index: usize) -> &'t str {
        let start = self.starts.get(index).copied().unwrap_or(self.text.len());
        let end = self
            .starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len());
        self.text.get(start..end).unwrap_or_default()
    }

    /// Whether a line starts at `offset` (or it is the end of the text).
    fn starts_at(&self, offset: usize) -> bool {
        offset == 0 || offset >= self.text.len() || starts_line(self.text.as_bytes(), offset)
    }

    /// The start of the line after the one holding `offset`.
    fn next_start(&self, offset: usize) -> usize {
        let index = self.index_of(offset);
        self.starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len())
    }

    fn start_of_line_at(&self, offset: usize) -> usize {
        let index = self.index_of(offset);
        self.starts.get(index).copied().unwrap_or(self.text.len())
    }

    /// The end of the lines of a change of `start..end`: `end` itself when
    /// it starts a line (and the change is not empty there), else the start
    /// of the next line.
    fn end_of_line_through(&self, start: usize, end: usize) -> usize {
        let at_line_start = end == 0 || starts_line(self.text.as_bytes(), end);
        if at_line_start && (end > start || start == self.start_of_line_at(start)) {
            return end;
        }
        let index = self.index_of(end);
        self.starts
            .get(index + 1)
            .copied()
            .unwrap_or(self.text.len())
    }
}

/// Whether a line starts at `i` (after LF, CRLF or a lone CR).
fn starts_line(bytes: &[u8], i: usize) -> bool {
    match i.checked_sub(1).and_then(|before| bytes.get(before)) {
        Some(b'\n') => true,
        Some(b'\r') => bytes.get(i) != Some(&b'\n'),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compare(old: &str, pieces: &[(usize, usize, &str)]) {
        let mut new = String::new();
        let mut copied = 0;
        for &(start, end, text) in pieces {
            new.push_str(&old[copied..start]);
            new.push_str(text);
            copied = end;
        }
        let pieces: Vec<Piece> = pieces
            .iter()
            .map(|&(start, end, text)| Piece {
                old: start..end,
                new_len: text.len(),
            })
            .collect();
        new.push_str(&old[copied..]);
        let expected = similar::TextDiff::from_lines(old, new.as_str())
            .unified_diff()
            .context_radius(3)
            .header("f", "f (fixed)")
            .to_string();
        assert_eq!(unified("f", old, &new, &pieces), expected, "{new}");
    }

    #[test]
    fn the_same_diff_as_of_the_whole_text() {
        let old: String = (0..40).map(|i| format!("line {i}\n")).collect();
        let at = |line: usize| old.find(&format!("line {line}\n")).unwrap();
        compare(&old, &[(at(2) + 5, at(2) + 6, "X")]);
        compare(
            &old,
            &[(at(3), at(3), "new\n"), (at(5) + 5, at(5) + 6, "Y\nZ")],
        );
        compare(
            &old,
            &[
                (at(0), at(1), ""),
                (at(20), at(22), "a\n"),
                (at(39) + 5, at(39) + 8, "end"),
            ],
        );
        compare("a\nb", &[(2, 3, "c")]);
        compare("a\nb\n", &[(4, 4, "c")]);
        compare("a\nb\nc\n", &[(1, 2, "")]);
        compare("a: 1\n", &[(3, 4, "{x: 2}")]);
        compare("a\r\nb\r\nc\r\n", &[(3, 4, "B\r\nb2")]);
    }
}
