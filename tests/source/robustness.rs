//! Nothing panics, positions stay consistent, and parsing is fast.

use counsel::source::{Position, Span, parse};

use super::positions::DEPLOYMENT;

/// Line and column of `offset` counted the slow, obvious way.
fn naive_position(text: &str, offset: usize) -> (usize, usize) {
    let body = text.strip_prefix('\u{feff}').unwrap_or(text);
    let skipped = text.len() - body.len();
    let (mut line, mut column) = (1, 1);
    let mut chars = body.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if at + skipped >= offset {
            break;
        }
        match c {
            '\r' if chars.peek().is_some_and(|&(_, next)| next == '\n') => column += 1,
            '\n' | '\r' => (line, column) = (line + 1, 1),
            _ => column += 1,
        }
    }
    (line, column)
}

fn check_position(text: &str, position: Position, what: &str) {
    assert!(
        position.offset <= text.len(),
        "{what}: offset {} beyond {}",
        position.offset,
        text.len()
    );
    assert!(
        text.is_char_boundary(position.offset),
        "{what}: offset {} splits a character",
        position.offset
    );
    assert_eq!(
        (position.line, position.column),
        naive_position(text, position.offset),
        "{what} in {text:?}"
    );
}

fn check_span(text: &str, span: Span, what: &str) {
    check_position(text, span.start, what);
    check_position(text, span.end, what);
    assert!(
        span.start.offset <= span.end.offset,
        "{what}: span runs backwards in {text:?}"
    );
}

/// Parse `text`; whatever the outcome, every position reported must be right.
fn check(text: &str) -> bool {
    match parse(text) {
        Ok(documents) => {
            for document in &documents {
                check_span(text, document.span, "document");
                // The naive oracle is linear: check a sample of big documents.
                let count = document.nodes().count();
                let sampled = document
                    .nodes()
                    .enumerate()
                    .filter(|&(i, _)| i < 200 || i + 5 > count);
                for (pointer, node) in sampled.map(|(_, node)| node) {
                    check_span(text, node.value, pointer);
                    // A span covers the node, not the blanks (or comment) around it.
                    for span in node.key.into_iter().chain([node.value]) {
                        let covered = span.slice(text);
                        let trimmed = covered.trim_matches([' ', '\t', '\r', '\n', '\u{feff}']);
                        assert_eq!(covered, trimmed, "{pointer} in {text:?}");
                    }
                    node.key
                        .into_iter()
                        .chain(node.dash)
                        .for_each(|span| check_span(text, span, pointer));
                    assert!(
                        node.value.start.offset >= document.span.start.offset
                            && node.value.end <= document.span.end,
                        "{pointer} outside its document in {text:?}"
                    );
                    // Key, dash and value lie inside the parent, in that order.
                    if let Some((parent, _)) = pointer.rsplit_once('/') {
                        let parent = document
                            .node(parent)
                            .unwrap_or_else(|| panic!("no parent of {pointer}"));
                        let parts: Vec<Span> = node
                            .key
                            .into_iter()
                            .chain(node.dash)
                            .chain([node.value])
                            .collect();
                        for pair in parts.windows(2) {
                            assert!(
                                pair[0].end.offset <= pair[1].start.offset,
                                "{pointer} in {text:?}"
                            );
                        }
                        for part in parts {
                            let inside = parent.value.start.offset <= part.start.offset
                                && part.end.offset <= parent.value.end.offset;
                            assert!(inside, "{pointer} outside its parent in {text:?}");
                        }
                    }
                }
            }
            true
        }
        Err(error) => {
            let position = Position {
                offset: error.offset,
                line: error.line,
                column: error.column,
            };
            check_position(text, position, &error.message);
            false
        }
    }
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

const SEEDS: [&str; 6] = [
    DEPLOYMENT,
    "a: &x {b: [1, 2], c: \"q\"}\nd:\n  <<: *x\n  e: |\n    text\n  f: >-\n    folded\n---\n- *x\n- 'y'\n...\n",
    "{\"a\": [1, 2.5, {\"b\": null}], \"c\": \"\\ud83d\\ude00\", \"d\": true}",
    "\u{feff}k: é\r\nl:\r\n- x # c\r\n- ? y\r\n  : z\r\n",
    "%YAML 1.2\n--- !!map\n!!str a: !!int 1\n? [x]\n: y\n",
    "s: 'it''s'\nt: \"\\t\\u00e9\\x41\"\nu: !local v\nw: 0x_1F\n",
];
const PIECES: [&str; 24] = [
    "-", ":", " ", "\n", "\r\n", "\t", "{", "}", "[", "]", ",", "&a", "*a", "!!str", "|", ">", "'",
    "\"", "#", "---", "...", "? ", "\\u", "é",
];

#[test]
fn mutated_manifests_never_panic_and_positions_stay_consistent() {
    let mut rng = Rng(0x5eed_cafe_f00d_1234);
    let (mut parsed, mut failed) = (0, 0);
    let rounds: usize = std::env::var("COUNSEL_FUZZ_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(3000);
    for round in 0..rounds {
        let seed = SEEDS[round % SEEDS.len()];
        let mut chars: Vec<char> = seed.chars().collect();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(chars.len() + 1);
            match rng.below(4) {
                0 if at < chars.len() => {
                    chars.remove(at);
                }
                1 => {
                    let piece = PIECES[rng.below(PIECES.len())];
                    chars.splice(at..at, piece.chars());
                }
                2 if at < chars.len() => {
                    let end = (at + 1 + rng.below(20)).min(chars.len());
                    let copy: Vec<char> = chars[at..end].to_vec();
                    let to = rng.below(chars.len() + 1);
                    chars.splice(to..to, copy);
                }
                _ => chars.truncate(at),
            }
        }
        let text: String = chars.into_iter().collect();
        if check(&text) {
            parsed += 1
        } else {
            failed += 1
        }
    }
    // The mutations must exercise both outcomes to mean anything.
    assert!(
        parsed > 300 && failed > 300,
        "parsed {parsed}, failed {failed}"
    );
}

#[test]
fn random_streams_of_yaml_syntax_never_panic() {
    let mut rng = Rng(0x0dd_ba11_c0ff_ee42);
    let rounds: usize = std::env::var("COUNSEL_FUZZ_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let words = [
        "a", "b: ", "1", "~", "<<: ", "x\n  y", "  ", "\n- ", "{a: [", "]}",
    ];
    for _ in 0..rounds {
        let mut text = String::new();
        for _ in 0..rng.below(40) {
            if rng.below(3) == 0 {
                text.push_str(words[rng.below(words.len())]);
            } else {
                text.push_str(PIECES[rng.below(PIECES.len())]);
            }
        }
        check(&text);
    }
}

#[test]
fn hostile_shapes_are_answered() {
    let long_key = format!("{}: 1", "k".repeat(100_000));
    let many_docs = "---\na: 1\n".repeat(5_000);
    let wide = format!("[{}]", vec!["1"; 100_000].join(","));
    for text in [
        long_key.as_str(),
        many_docs.as_str(),
        wide.as_str(),
        "\0",
        "\u{feff}",
        "\r",
        "- \u{85}",
        "a: \"\\",
        "&",
        "*",
        "!",
    ] {
        check(text);
    }
    assert_eq!(parse(&many_docs).unwrap().len(), 5_000);
}
