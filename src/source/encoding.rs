//! A manifest file's bytes as text, and back.
//!
//! Manifests are UTF-8. kubectl also reads UTF-16 files that start with a
//! byte order mark (what some Windows editors and PowerShell's `>` write),
//! so Counsel does too: such a file is decoded, every position refers to the
//! decoded text (lines and columns are what an editor shows), and `--fix`
//! writes it back as UTF-16 with the same byte order mark. Anything else that
//! is not UTF-8 is an error at the line and column of its first bad byte.

use std::borrow::Cow;

use super::text::TextIndex;
use super::{Position, SourceError};

/// How a manifest file is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without a byte order mark (which stays in the text).
    Utf8,
    /// UTF-16 little-endian, starting with the byte order mark `FF FE`.
    Utf16Le,
    /// UTF-16 big-endian, starting with the byte order mark `FE FF`.
    Utf16Be,
}

impl Encoding {
    /// `text` encoded as the file was: UTF-16 gets its byte order mark back.
    pub fn encode(self, text: &str) -> Cow<'_, [u8]> {
        let units = text.encode_utf16();
        match self {
            Encoding::Utf8 => Cow::Borrowed(text.as_bytes()),
            Encoding::Utf16Le => Cow::Owned(
                [0xFF, 0xFE]
                    .into_iter()
                    .chain(units.flat_map(u16::to_le_bytes))
                    .collect(),
            ),
            Encoding::Utf16Be => Cow::Owned(
                [0xFE, 0xFF]
                    .into_iter()
                    .chain(units.flat_map(u16::to_be_bytes))
                    .collect(),
            ),
        }
    }
}

/// The text of a manifest file and how it was encoded (see the module docs).
/// Bytes that are not text are an error at the line and column where they
/// start.
pub fn decode(bytes: &[u8]) -> Result<(Cow<'_, str>, Encoding), SourceError> {
    let utf16 = match bytes {
        [0xFF, 0xFE, rest @ ..] => Some((Encoding::Utf16Le, rest)),
        [0xFE, 0xFF, rest @ ..] => Some((Encoding::Utf16Be, rest)),
        _ => None,
    };
    if let Some((encoding, rest)) = utf16 {
        return decode_utf16(encoding, rest).map(|text| (Cow::Owned(text), encoding));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok((Cow::Borrowed(text), Encoding::Utf8)),
        Err(error) => {
            let valid = error.valid_up_to();
            let before = bytes
                .get(..valid)
                .and_then(|b| std::str::from_utf8(b).ok())
                .unwrap_or_default();
            let byte = bytes.get(valid).copied().unwrap_or_default();
            Err(SourceError::at(
                end_of(before),
                format!(
                    "this is not UTF-8 text: byte 0x{byte:02X} here is not part of a UTF-8 character (manifests are UTF-8, or UTF-16 starting with a byte order mark)"
                ),
            ))
        }
    }
}

fn decode_utf16(encoding: Encoding, bytes: &[u8]) -> Result<String, SourceError> {
    let units = bytes.chunks_exact(2).map(|pair| {
        let pair = [pair[0], pair[1]];
        if encoding == Encoding::Utf16Be {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut text = String::with_capacity(bytes.len() / 2);
    for unit in char::decode_utf16(units) {
        match unit {
            Ok(c) => text.push(c),
            Err(error) => {
                return Err(SourceError::at(
                    end_of(&text),
                    format!(
                        "this UTF-16 file (it starts with a byte order mark) has an unpaired surrogate 0x{:04X} here",
                        error.unpaired_surrogate()
                    ),
                ));
            }
        }
    }
    if bytes.len() % 2 == 1 {
        return Err(SourceError::at(
            end_of(&text),
            "this UTF-16 file (it starts with a byte order mark) ends in the middle of a character",
        ));
    }
    Ok(text)
}

/// Where the text after `before` starts.
fn end_of(before: &str) -> Position {
    TextIndex::new(before).position(before.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_bytes_are_found_at_their_line_and_column() {
        let error = decode(b"a: 1\nb: caf\xE9\n").unwrap_err();
        assert_eq!((error.line, error.column, error.offset), (2, 7, 11));
        assert!(error.message.contains("byte 0xE9"), "{}", error.message);
        let mut bytes = "é: \u{1F600}\n\u{1F600}".as_bytes().to_vec();
        bytes.push(0xFF);
        let error = decode(&bytes).unwrap_err();
        assert_eq!((error.line, error.column), (2, 2));
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_read_and_written_back() {
        let text = "kind: Pod # é\r\nx: \u{1F600}\n";
        for encoding in [Encoding::Utf16Le, Encoding::Utf16Be] {
            let bytes = encoding.encode(text).into_owned();
            let (decoded, found) = decode(&bytes).expect("decodes");
            assert_eq!((decoded.as_ref(), found), (text, encoding));
        }
        let mut odd = Encoding::Utf16Le.encode("a\nb").into_owned();
        odd.push(b'c');
        let error = decode(&odd).unwrap_err();
        assert_eq!((error.line, error.column), (2, 2));
        let error = decode(&[0xFF, 0xFE, b'a', 0, b'\n', 0, 0x3D, 0xD8, b'b', 0]).unwrap_err();
        assert_eq!((error.line, error.column), (2, 1));
        assert_eq!(decode(b"a: 1").map(|(_, e)| e), Ok(Encoding::Utf8));
    }
}
