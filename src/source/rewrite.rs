//! Text the parser reads differently from the text written, where the parser
//! needs help; positions always refer to the original.
//!
//! - JSON writes characters outside the Basic Multilingual Plane as UTF-16
//!   surrogate pairs (`"\ud83d\ude00"`, Python's `json.dumps` does by default);
//!   YAML rejects those escapes. They become YAML's `\U0001F600`.
//! - saphyr-parser 0.3 counts the non-ASCII characters of a reserved directive
//!   (`%FOO …`, which YAML ignores) as bytes, shifting every later position.
//!   They are masked with `_`, which keeps the count of characters.

/// The text with the non-ASCII characters of reserved directives masked, or
/// `None` if it has none. Characters keep their index, so the parser's
/// positions in the masked text are positions in `text`.
pub(crate) fn mask_reserved_directives(text: &str) -> Option<String> {
    if text.is_ascii() || !text.contains('%') {
        return None;
    }
    let mut masked: Option<String> = None;
    // Directives come before a document's `---`: at the start, or after `...`.
    let mut in_prefix = true;
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let body = line
            .trim_end_matches(['\n', '\r'])
            .trim_start_matches('\u{feff}');
        let name = body
            .strip_prefix('%')
            .and_then(|rest| rest.split([' ', '\t']).next());
        let reserved = name.is_some_and(|name| name != "YAML" && name != "TAG");
        if in_prefix && reserved && !body.is_ascii() {
            let copy = masked.get_or_insert_with(|| text[..offset].to_owned());
            copy.extend(line.chars().map(|c| {
                if c.is_ascii() || c == '\u{feff}' {
                    c
                } else {
                    '_'
                }
            }));
        } else if let Some(copy) = masked.as_mut() {
            copy.push_str(line);
        }
        let marker = |m: &str| {
            body.strip_prefix(m)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
        };
        let blank = body.trim_start().is_empty() || body.trim_start().starts_with('#');
        if marker("...") {
            in_prefix = true;
        } else if marker("---") || !(blank || body.starts_with('%')) {
            in_prefix = false;
        }
        offset += line.len();
    }
    masked
}

/// The text with every surrogate pair escape rewritten, and the original byte
/// offset of each character of the rewritten text (plus one for its end).
/// `None` when there is nothing to rewrite.
pub(crate) fn rewrite_surrogate_pairs(text: &str) -> Option<(String, Vec<usize>)> {
    let bytes = text.as_bytes();
    let mut rewritten = String::with_capacity(text.len());
    let mut offsets = Vec::with_capacity(text.len() + 1);
    let copy = |rewritten: &mut String, offsets: &mut Vec<usize>, from: usize, to: usize| {
        for (at, c) in text.get(from..to).unwrap_or_default().char_indices() {
            rewritten.push(c);
            offsets.push(from + at);
        }
    };
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            i += 1;
            continue;
        }
        let Some(c) = surrogate_pair_at(bytes.get(i..i + 12).unwrap_or_default()) else {
            // A backslash escapes the next character, so `\\ud83d` is no escape.
            i += 2;
            continue;
        };
        copy(&mut rewritten, &mut offsets, copied, i);
        for (k, escaped) in format!("\\U{:08X}", u32::from(c)).chars().enumerate() {
            rewritten.push(escaped);
            offsets.push(i + k);
        }
        i += 12;
        copied = i;
    }
    if copied == 0 {
        return None;
    }
    copy(&mut rewritten, &mut offsets, copied, text.len());
    offsets.push(text.len());
    Some((rewritten, offsets))
}

/// The character escaped by `\uXXXX\uYYYY` when it is a surrogate pair.
fn surrogate_pair_at(escape: &[u8]) -> Option<char> {
    let [b'\\', b'u', h1, h2, h3, h4, b'\\', b'u', l1, l2, l3, l4] = escape else {
        return None;
    };
    let hex = |digits: [u8; 4]| u32::from_str_radix(std::str::from_utf8(&digits).ok()?, 16).ok();
    let high = hex([*h1, *h2, *h3, *h4])?;
    let low = hex([*l1, *l2, *l3, *l4])?;
    if !(0xD800..=0xDBFF).contains(&high) || !(0xDC00..=0xDFFF).contains(&low) {
        return None;
    }
    char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_directives_are_masked_before_documents_only() {
        let text =
            "%FOé bär # ü\n%YAML 1.2 # é\n%YAMLé 1\n---\n%FOé: in content\n...\n%BAR ä\n--- x\n";
        let masked = mask_reserved_directives(text).unwrap();
        assert_eq!(
            masked,
            "%FO_ b_r # _\n%YAML 1.2 # é\n%YAML_ 1\n---\n%FOé: in content\n...\n%BAR _\n--- x\n"
        );
        assert_eq!(masked.chars().count(), text.chars().count());
        assert_eq!(mask_reserved_directives("%FOO bar\n--- é\n"), None);
    }

    #[test]
    fn pairs_are_rewritten_and_offsets_point_into_the_original() {
        let text = r#"{"é": "\ud83d\ude00!", "b": "\\ud83d\ude00"}"#;
        let (rewritten, offsets) = rewrite_surrogate_pairs(text).unwrap();
        assert_eq!(rewritten, r#"{"é": "\U0001F600!", "b": "\\ud83d\ude00"}"#);
        assert_eq!(offsets.len(), rewritten.chars().count() + 1);
        let bang = rewritten.chars().position(|c| c == '!').unwrap();
        assert_eq!(offsets[bang], text.find('!').unwrap());
        assert_eq!(offsets.last(), Some(&text.len()));
        assert_eq!(rewrite_surrogate_pairs(r#""\u00e9 \ud83d""#), None);
    }
}
