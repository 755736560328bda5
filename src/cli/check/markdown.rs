//! `counsel check --output markdown`: a summary sized for a pull-request
//! comment. Per file, per rule (errors first): why, once, then each
//! violation with its object and line, and its fix as a suggested diff
//! (the change `--fix=all` makes; a change that fixes several findings is
//! shown once). The whole stays within [`LIMIT`] bytes (GitHub refuses
//! comments over 65 536 characters); what does not fit is counted at the
//! end. A file's findings are kept until the file is done, then written.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::rc::Rc;

use counsel::config::Mode;
use counsel::source::Document;
use similar::{ChangeTag, TextDiff};

use super::inputs::{self, Checked, InputError, Skipped};
use super::pretty::{counts, plural};
use super::suggestions::FindingFix;
use super::{FailOn, File, Renderer, Totals};

/// The most bytes written, the closing lines included.
pub const LIMIT: usize = 60_000;
/// Room kept for the closing lines.
const CLOSING: usize = 1_000;

/// One rule's findings in a file.
struct Rule {
    label: String,
    mode: Mode,
    why: String,
    docs: Option<String>,
    /// Findings of the rule in the file.
    count: usize,
    /// Each finding, rendered, as far as it could still be shown.
    entries: Vec<String>,
}

/// The Markdown renderer.
pub struct Markdown {
    fail_on: FailOn,
    rules: Vec<Rule>,
    /// Fixes already shown in this file (a shared one is shown once), and
    /// the rule they are shown under.
    shown: HashMap<*const FindingFix, String>,
    written: usize,
    /// Bytes of the entries kept for the current file, by rank.
    kept: [usize; 3],
    omitted: usize,
    counts: [usize; 3],
    problems: Vec<String>,
}

impl Markdown {
    pub fn new(fail_on: FailOn) -> Self {
        Markdown {
            fail_on,
            rules: Vec::new(),
            shown: HashMap::new(),
            written: 0,
            kept: [0; 3],
            omitted: 0,
            counts: [0; 3],
            problems: Vec::new(),
        }
    }

    fn fits(&self, text: &str) -> bool {
        self.written + text.len() <= LIMIT - CLOSING
    }

    fn push(&mut self, out: &mut String, text: &str) {
        self.written += text.len();
        out.push_str(text);
    }
}

impl Renderer for Markdown {
    fn start(&mut self, out: &mut String) {
        self.push(out, "## Counsel\n\n");
    }

    fn skipped(&mut self, _: &mut String, skipped: &Skipped) {
        self.problems
            .push(format!("note: `{}`: {}", skipped.path, skipped.reason));
    }

    fn error(&mut self, _: &mut String, error: &InputError, _: Option<&File>) {
        let place = match error.line {
            Some(line) => format!("{} line {line}", error.file),
            None => error.file.clone(),
        };
        self.problems.push(format!(
            "**cannot be checked**: `{place}`: {}",
            error.message
        ));
    }

    /// Files this object's findings under their rules.
    fn checked(&mut self, _: &mut String, file: &File, document: &Document, checked: &Checked) {
        let object = checked.report.object.describe();
        for (index, finding) in checked.report.findings.iter().enumerate() {
            self.counts[rank(finding.mode)] += 1;
            let pointer = format!("{}{}", checked.object.prefix, finding.pointer);
            let (span, _) = inputs::point(document, &pointer);
            let mut entry = format!(
                "- **{}** line {}: {}\n",
                inline(&object),
                span.start.line,
                inline(&finding.message_with_exception())
            );
            let mut fresh = None;
            if let Some(Some(fix)) = checked.fixes.get(index) {
                match self.shown.get(&Rc::as_ptr(fix)) {
                    Some(first) => {
                        let _ = writeln!(entry, "  fixed by the change shown under {first}");
                    }
                    None => {
                        fresh = Some(Rc::as_ptr(fix));
                        suggested_diff(&mut entry, file, fix);
                    }
                }
            } else if let Some(fix) = finding.fix_summary() {
                let _ = writeln!(entry, "  fix, to make by hand: {}", inline(&fix));
            }
            // An entry that entries shown before it already crowd out is
            // only counted: memory stays within the limit, whatever the input.
            let rank = rank(finding.mode);
            let ahead: usize = self.kept[..=rank].iter().sum();
            let entry = if self.written + ahead + entry.len() <= LIMIT {
                self.kept[rank] += entry.len();
                if let Some(fix) = fresh {
                    self.shown.insert(fix, finding.label());
                }
                Some(entry)
            } else {
                self.omitted += 1;
                None
            };
            let label = finding.label();
            let rule = match self.rules.iter().position(|r| r.label == label) {
                Some(at) => &mut self.rules[at],
                None => {
                    self.rules.push(Rule {
                        label,
                        mode: finding.mode,
                        why: finding.why.clone(),
                        docs: finding.docs.clone(),
                        count: 0,
                        entries: Vec::new(),
                    });
                    self.rules.last_mut().expect("just pushed")
                }
            };
            rule.count += 1;
            rule.entries.extend(entry);
        }
    }

    /// Writes the file's section, within the limit.
    fn file_done(&mut self, out: &mut String, file: &File) {
        let mut rules = std::mem::take(&mut self.rules);
        self.shown.clear();
        self.kept = [0; 3];
        if rules.is_empty() {
            return;
        }
        rules.sort_by_key(|rule| rank(rule.mode));
        let mut heading = Some(format!("### `{}`\n\n", inline(&file.name)));
        for rule in rules {
            let mut intro = format!(
                "**{} {}** ({}): {}",
                level(rule.mode, self.fail_on),
                rule.label,
                rule.count,
                inline(&rule.why)
            );
            if let Some(docs) = &rule.docs {
                let _ = write!(intro, " [docs]({docs})");
            }
            intro.push_str("\n\n");
            let mut entries = rule.entries.into_iter();
            let Some(first) = entries.next() else {
                continue;
            };
            let opening = format!("{}{intro}{first}", heading.as_deref().unwrap_or_default());
            if !self.fits(&opening) {
                self.omitted += 1 + entries.len();
                continue;
            }
            heading = None;
            self.push(out, &opening);
            for entry in entries {
                if self.fits(&entry) {
                    self.push(out, &entry);
                } else {
                    self.omitted += 1;
                }
            }
            self.push(out, "\n");
        }
    }

    /// The counts, what could not be checked and what was left out.
    fn finish(&mut self, out: &mut String, totals: &Totals, _: Option<bool>) {
        if !self.problems.is_empty() {
            out.push_str("### Not checked\n\n");
            let mut shown = 0;
            for problem in &self.problems {
                let line = format!("- {problem}\n");
                if self.written + out.len() + line.len() > LIMIT - CLOSING / 2 {
                    break;
                }
                out.push_str(&line);
                shown += 1;
            }
            if shown < self.problems.len() {
                let _ = writeln!(out, "- and {} more", self.problems.len() - shown);
            }
            out.push('\n');
        }
        let [errors, warnings, notes] = self.counts;
        let parts = [
            plural(errors, "error"),
            plural(warnings, "warning"),
            plural(notes, "note"),
        ];
        let _ = writeln!(out, "**{}**", counts(&parts, totals));
        if self.omitted > 0 {
            let _ = writeln!(
                out,
                "\n{} more findings are not shown (this summary is kept under {LIMIT} characters): run `counsel check` to see every one.",
                self.omitted
            );
        }
    }
}

/// Errors first, then warnings, then notes.
fn rank(mode: Mode) -> usize {
    match mode {
        Mode::Enforce => 0,
        Mode::Warn | Mode::Fix => 1,
        Mode::Audit => 2,
    }
}

fn level(mode: Mode, fail_on: FailOn) -> &'static str {
    let word = match mode {
        Mode::Enforce => "error",
        Mode::Warn | Mode::Fix => "warning",
        Mode::Audit => "note",
    };
    if fail_on.fails(mode) && mode != Mode::Enforce {
        return match mode {
            Mode::Audit => "note (fails this run)",
            _ => "warning (fails this run)",
        };
    }
    word
}

/// Text on one line with Markdown's active characters made plain.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// The fix as a `diff` block of the whole lines it changes.
fn suggested_diff(out: &mut String, file: &File, fix: &FindingFix) {
    let text = &file.text;
    let mut lines = String::new();
    for change in &fix.changes {
        let (Some(before), Some(after)) =
            (text.get(..change.old.start), text.get(change.old.end..))
        else {
            continue;
        };
        // Whole lines, each with its line break, so an insertion at the
        // end of a line leaves that line equal.
        let start = before.rfind(['\n', '\r']).map_or(0, |i| i + 1);
        let end = after
            .find('\n')
            .map_or(text.len(), |i| change.old.end + i + 1);
        let old = text.get(start..end).unwrap_or_default();
        let new = format!(
            "{}{}{}",
            before.get(start..).unwrap_or_default(),
            change.text,
            text.get(change.old.end..end).unwrap_or_default()
        );
        for line in TextDiff::from_lines(old, &new).iter_all_changes() {
            let sign = match line.tag() {
                ChangeTag::Delete => '-',
                ChangeTag::Insert => '+',
                ChangeTag::Equal => ' ',
            };
            lines.push(sign);
            lines.push_str(line.value().trim_end_matches(['\n', '\r']));
            lines.push('\n');
        }
    }
    // A fence longer than any run of backticks in the lines.
    let longest = lines.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest.max(2) + 1);
    let _ = writeln!(out, "  {}\n  {fence}diff", inline(&fix.description()));
    for line in lines.lines() {
        let _ = writeln!(out, "  {line}");
    }
    let _ = writeln!(out, "  {fence}");
}
