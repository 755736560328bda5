//! Text that must stay within a length and on one line: shortening at a
//! boundary a reader recognises, never in the middle of a word when a
//! boundary is near.

/// What ends a shortened text.
pub const ELLIPSIS: &str = "...";

/// Characters after which a token without spaces (a field path, a URL, a
/// JSON value) can be cut and still be read as the start of something.
const SEPARATORS: &[char] = &['.', '/', ',', ';', ':', '-', '_', ')', ']', '}', '&', '='];

/// `text` with every control character (newline, tab, escape...) replaced
/// by a space. Kubernetes drops a warning that contains one, and a line
/// break inside a policy's words would break the layout of a denial.
pub fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The number of characters (Unicode scalar values, what Kubernetes calls
/// runes) in `text`.
pub fn chars(text: &str) -> usize {
    text.chars().count()
}

/// `text` in at most `max` characters: whole when it fits, otherwise cut
/// after the last whole word that fits (or, in a long token without spaces,
/// after a separator such as `.` or `/`) and ended with `...`. Only a token
/// with no boundary in the second half of the room is cut inside.
pub fn shorten(text: &str, max: usize) -> String {
    if text.char_indices().nth(max).is_none() {
        return text.to_owned();
    }
    let room = max.saturating_sub(ELLIPSIS.len());
    // The byte offset after `room` characters: what fits before the ellipsis.
    let end = text
        .char_indices()
        .nth(room)
        .map_or(text.len(), |(at, _)| at);
    let fits = &text[..end];
    let at_word = || {
        // A cut before a space (the next character is one), or at a space.
        let next_is_space = text[end..].starts_with(char::is_whitespace);
        if next_is_space {
            Some(end)
        } else {
            fits.rfind(char::is_whitespace)
        }
    };
    let at_separator = || fits.rfind(SEPARATORS).map(|at| at + 1);
    // A boundary is used when it keeps at least half of the room.
    let half = fits.len() / 2;
    let cut = at_word()
        .filter(|&at| at >= half && at > 0)
        .or_else(|| at_separator().filter(|&at| at >= half))
        .unwrap_or(end);
    let kept = text[..cut].trim_end_matches(|c: char| c.is_whitespace() || ",;:.".contains(c));
    format!("{kept}{ELLIPSIS}")
}

#[cfg(test)]
mod tests {
    use super::{one_line, shorten};

    #[test]
    fn text_that_fits_is_kept_whole() {
        assert_eq!(shorten("abcdef", 6), "abcdef");
        assert_eq!(shorten("ab", 2), "ab");
        assert_eq!(shorten("", 0), "");
    }

    #[test]
    fn words_are_never_cut_when_a_space_is_near() {
        let text = "the container runs as root on the node";
        assert_eq!(shorten(text, 20), "the container...");
        assert_eq!(shorten(text, 21), "the container runs...");
        // The cut falls just before a space: the last word is whole.
        assert_eq!(shorten(text, 25), "the container runs as...");
        // Punctuation before the cut does not pile up in front of the dots.
        assert_eq!(shorten("first, second, third", 12), "first...");
        assert_eq!(shorten("One. Two three four", 10), "One...");
    }

    #[test]
    fn tokens_without_spaces_are_cut_after_a_separator() {
        assert_eq!(
            shorten("spec.template.spec.containers[0].securityContext", 30),
            "spec.template.spec..."
        );
        assert_eq!(shorten("abcdefg", 6), "abc...");
        assert_eq!(shorten("abc", 2), "...");
    }

    #[test]
    fn characters_are_counted_not_bytes() {
        assert_eq!(shorten("ééééééé", 6), "ééé...");
        assert_eq!(shorten("é é é é", 6), "é é...");
    }

    #[test]
    fn control_characters_become_spaces() {
        assert_eq!(one_line("a\nb\tc\u{1b}[0m\u{85}d"), "a b c [0m d");
    }
}
