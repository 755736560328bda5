//! The blocks of a denial: one per broken rule, and one-line briefs.

use crate::explain::Finding;
use crate::server::response::text::{one_line, shorten};

/// Longest found value shown in full; a found value can be a whole object.
const MAX_FOUND_CHARS: usize = 120;
/// Longest text of each kind of line: a policy's or ops' words can be of
/// any length, and one of them must not crowd out every other violation.
const MAX_TEXT_CHARS: usize = 300;
const MAX_WHY_CHARS: usize = 600;
const MAX_FIX_CHARS: usize = 400;
const MAX_HINT_CHARS: usize = 400;

/// The block of one rule, ready to show all or the first of its violations.
pub(super) struct RuleBlock {
    /// A rule broken once: its whole block. Otherwise the rule's first line.
    head: String,
    /// Each violation's lines (for a rule broken more than once).
    items: Vec<String>,
    /// What is said once for the rule, after its violations.
    foot: String,
    /// How many violations the rule has.
    pub(super) count: usize,
}

impl RuleBlock {
    pub(super) fn new(group: &[&Finding]) -> RuleBlock {
        let first = group[0];
        if let [finding] = group {
            return RuleBlock {
                head: finding_block(finding),
                items: Vec::new(),
                foot: String::new(),
                count: 1,
            };
        }
        let mut head = first.label();
        let title = one_line(&first.title);
        let title = title.trim().trim_end_matches('.');
        if !title.is_empty() {
            head.push(' ');
            head.push_str(&shorten(title, MAX_TEXT_CHARS));
            head.push(':');
        }
        head.push_str(&format!(" {} violations", group.len()));
        // A hint every violation shares is said once, with the reason.
        let shared_hint = group
            .iter()
            .all(|finding| finding.hint == first.hint)
            .then_some(first.hint.as_deref())
            .flatten();
        let items = group
            .iter()
            .map(|finding| {
                let mut item = format!(
                    "\n  {}",
                    shorten(&one_line(&finding.message), MAX_TEXT_CHARS)
                );
                push_line(&mut item, "    field", &field_text(finding), usize::MAX);
                if let Some(fix) = finding.fix_summary() {
                    push_line(&mut item, "    fix", &fix, MAX_FIX_CHARS);
                }
                if let (None, Some(hint)) = (shared_hint, &finding.hint) {
                    push_line(&mut item, "    hint", hint, MAX_HINT_CHARS);
                }
                item
            })
            .collect();
        let mut foot = String::new();
        push_line(&mut foot, "  why", &first.why, MAX_WHY_CHARS);
        if let Some(hint) = shared_hint {
            push_line(&mut foot, "  hint", hint, MAX_HINT_CHARS);
        }
        docs_and_contact(&mut foot, first);
        RuleBlock {
            head,
            items,
            foot,
            count: group.len(),
        }
    }

    /// The line that says how many violations are not shown.
    fn more(&self, take: usize) -> String {
        match self.count - take {
            0 => String::new(),
            1 => "\n  ... and 1 more violation of this rule".to_owned(),
            more => format!("\n  ... and {more} more violations of this rule"),
        }
    }

    /// The length of the block showing `take` violations.
    pub(super) fn len(&self, take: usize) -> usize {
        let items: usize = self.items.iter().take(take).map(String::len).sum();
        self.head.len() + items + self.more(take).len() + self.foot.len()
    }

    /// The block showing its first `take` violations.
    pub(super) fn render(&self, take: usize) -> String {
        let mut block = self.head.clone();
        for item in self.items.iter().take(take) {
            block.push_str(item);
        }
        block.push_str(&self.more(take));
        block.push_str(&self.foot);
        block
    }

    /// How many violations fit in `room` bytes (with the blank line before
    /// the block); 0 when not even one does.
    pub(super) fn fitting(&self, room: usize) -> usize {
        if self.items.is_empty() {
            return usize::from(self.len(1) + 2 <= room);
        }
        let mut used = self.head.len() + self.foot.len() + 2;
        let mut fits = 0;
        for (at, item) in self.items.iter().enumerate() {
            used += item.len();
            if used + self.more(at + 1).len() <= room {
                fits = at + 1;
            }
        }
        fits
    }
}

/// One violation as a short block:
///
/// ```text
/// [policy/rule] message
///   field: path (found: value)
///   why: ...
///   fix: ...
///   hint: ...
///   docs: ...
///   contact: ...
///   owner: ...
/// ```
pub fn finding_block(finding: &Finding) -> String {
    let mut block = format!(
        "{} {}",
        finding.label(),
        shorten(&one_line(&finding.message), MAX_TEXT_CHARS)
    );
    push_line(&mut block, "  field", &field_text(finding), usize::MAX);
    push_line(&mut block, "  why", &finding.why, MAX_WHY_CHARS);
    if let Some(fix) = finding.fix_summary() {
        push_line(&mut block, "  fix", &fix, MAX_FIX_CHARS);
    }
    if let Some(hint) = &finding.hint {
        push_line(&mut block, "  hint", hint, MAX_HINT_CHARS);
    }
    docs_and_contact(&mut block, finding);
    block
}

/// The rule's docs, whom to ask and who owns the namespace.
fn docs_and_contact(block: &mut String, finding: &Finding) {
    if let Some(docs) = &finding.docs {
        push_line(block, "  docs", docs, MAX_TEXT_CHARS);
    }
    if let Some(contact) = &finding.contact {
        push_line(block, "  contact", contact, MAX_TEXT_CHARS);
    }
    if let Some(owner) = &finding.owner {
        push_line(block, "  owner", owner, MAX_TEXT_CHARS);
    }
}

/// `\n{label}: {text}`, shortened to `max` characters; nothing for empty text.
fn push_line(block: &mut String, label: &str, text: &str, max: usize) {
    let text = one_line(text);
    let text = text.trim();
    if text.is_empty() {
        return;
    }
    block.push('\n');
    block.push_str(label);
    block.push_str(": ");
    block.push_str(&shorten(text, max));
}

/// `path (found: value)`, the path shortened.
fn field_text(finding: &Finding) -> String {
    format!(
        "{} {}",
        shorten(&finding.field, MAX_TEXT_CHARS),
        found_clause(finding)
    )
}

/// `(found: true)`, or `(not set)` for a missing field.
pub fn found_clause(finding: &Finding) -> String {
    match &finding.found {
        Some(value) => format!(
            "(found: {})",
            shorten(&one_line(&value.to_string()), MAX_FOUND_CHARS)
        ),
        None => "(not set)".to_owned(),
    }
}

/// A violation in one line: `  [policy/rule] message`.
pub(super) fn brief_line(finding: &Finding) -> String {
    format!(
        "  {} {}",
        one_line(&finding.label()),
        shorten(&one_line(&finding.message), MAX_TEXT_CHARS)
    )
}
