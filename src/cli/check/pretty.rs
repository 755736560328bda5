//! Diagnostics in the manner of rustc: the rule and message, the file, line
//! and column, the source line with a caret under the field, then why, the
//! fix and where to read more.

use std::fmt::Write;

use counsel::config::{FailurePolicy, Mode};
use counsel::engine::FixSafety;
use counsel::explain::{Finding, field_path};
use counsel::source::Span;

use counsel::source::Document;

use super::fix::FileFix;
use super::inputs::{self, Checked, InputError, Skipped};
use super::{File, Renderer, Totals};

/// A location in a file, and what to say under the caret.
struct Place<'a> {
    file: &'a File,
    span: Span,
    label: String,
}

/// Colours, when asked for (`counsel audit`'s report paints with them too).
pub struct Style {
    pub color: bool,
}

impl Style {
    /// `text` in the SGR colour `code`, when colouring.
    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
    fn level(&self, mode: Mode) -> String {
        match mode {
            Mode::Enforce => self.paint("1;31", "error"),
            Mode::Warn | Mode::Fix => self.paint("1;33", "warning"),
            Mode::Audit => self.paint("1;36", "note"),
        }
    }
}

/// The pretty renderer: diagnostics as they come, counts at the end.
pub struct Pretty {
    style: Style,
    /// Whether findings are shown in full (not on a dry run: they would
    /// point at lines of text that is not on disk).
    detailed: bool,
    dry_run: bool,
    errors: usize,
    warnings: usize,
    notes: usize,
}

impl Pretty {
    pub fn new(color: bool, dry_run: bool) -> Self {
        Pretty {
            style: Style { color },
            detailed: !dry_run,
            dry_run,
            errors: 0,
            warnings: 0,
            notes: 0,
        }
    }
}

impl Renderer for Pretty {
    /// A file or directory reached again through a link.
    fn skipped(&mut self, out: &mut String, skipped: &Skipped) {
        let _ = writeln!(
            out,
            "{}: {}: {}\n",
            self.style.level(Mode::Audit),
            skipped.path,
            skipped.reason
        );
    }

    /// What could not be checked, with the line when known.
    fn error(&mut self, out: &mut String, error: &InputError, file: Option<&File>) {
        input_error(out, &self.style, error, file);
    }

    /// One object's findings, failures and warnings.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked) {
        let style = &self.style;
        for finding in &checked.report.findings {
            match finding.mode {
                Mode::Enforce => self.errors += 1,
                Mode::Warn | Mode::Fix => self.warnings += 1,
                Mode::Audit => self.notes += 1,
            }
            if self.detailed {
                finding_block(out, style, checked, file, document, finding);
            }
        }
        if !self.detailed {
            return;
        }
        for failure in &checked.report.failures {
            let level = match failure.failure_policy {
                FailurePolicy::Fail => {
                    self.errors += 1;
                    style.level(Mode::Enforce)
                }
                FailurePolicy::Ignore => {
                    self.warnings += 1;
                    style.level(Mode::Warn)
                }
            };
            let _ = writeln!(
                out,
                "{level}: {}: {}",
                checked.report.object.describe(),
                failure.sentence()
            );
            let place = object_place(checked, file, document);
            let _ = writeln!(
                out,
                "  --> {}:{}:{}\n",
                file.name, place.span.start.line, place.span.start.column
            );
        }
        for warning in &checked.report.warnings {
            self.warnings += 1;
            let _ = writeln!(
                out,
                "{}[{}]: {}: {}\n",
                style.level(Mode::Warn),
                warning.policy,
                checked.report.object.describe(),
                warning.message
            );
        }
    }

    /// The diff (dry run) or one line for the fixed file, then what was
    /// left for a person and why.
    fn fixed(&mut self, out: &mut String, file: &File, fix: &FileFix) {
        let name = &file.name;
        let style = &self.style;
        if self.dry_run {
            out.push_str(&fix.diff);
            if !fix.diff.is_empty() && !fix.diff.ends_with('\n') {
                out.push('\n');
            }
        } else if fix.fixed > 0 && fix.write_error.is_none() {
            let _ = writeln!(
                out,
                "{}: {name}: {} ({})\n",
                style.paint("1;32", "fixed"),
                plural(fix.fixed, "violation"),
                counted(&fix.fixed_labels)
            );
        }
        for left in &fix.left {
            let _ = writeln!(
                out,
                "{}: {}: {}\n  --> {name}:{}\n",
                style.level(Mode::Warn),
                left.object,
                left.reason,
                left.line
            );
        }
    }

    /// The counts, and with `--fix` what it did.
    fn finish(&mut self, out: &mut String, totals: &Totals, fix: Option<bool>) {
        let mut parts = vec![
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
        ];
        if self.notes > 0 {
            parts.push(plural(self.notes, "note"));
        }
        let _ = writeln!(out, "{}", counts(&parts, totals));
        if fix.is_some() {
            let _ = writeln!(out, "{}", fix_summary(totals, self.dry_run));
        }
    }
}

/// `fixed 3 violations in 1 file; 2 need a person`.
fn fix_summary(totals: &Totals, dry_run: bool) -> String {
    let files = plural(totals.changed_files, "file");
    let left = totals.need_a_person;
    if dry_run {
        format!(
            "dry run: would fix {} in {files} (nothing was written); {left} would need a person",
            plural(totals.fixed, "violation")
        )
    } else {
        format!(
            "fixed {} in {files}; {left} {} a person",
            plural(totals.fixed, "violation"),
            if left == 1 { "needs" } else { "need" }
        )
    }
}

/// `[a/x] ×2, [b/y]`: each label once, in order, with how often it occurs.
fn counted(labels: &[String]) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for label in labels {
        match counts.iter_mut().find(|(seen, _)| *seen == label) {
            Some((_, count)) => *count += 1,
            None => counts.push((label, 1)),
        }
    }
    let parts: Vec<String> = counts
        .into_iter()
        .map(|(label, count)| {
            if count == 1 {
                label.to_owned()
            } else {
                format!("{label} ×{count}")
            }
        })
        .collect();
    parts.join(", ")
}

/// `2 errors, 1 warning in 3 objects; 1 input could not be checked`: the
/// counts given, then the objects and what could not be checked.
pub(super) fn counts(parts: &[String], totals: &Totals) -> String {
    let mut line = format!(
        "{} in {}",
        parts.join(", "),
        plural(totals.objects, "object")
    );
    if totals.unchecked > 0 {
        line.push_str(&format!(
            "; {} could not be checked",
            plural(totals.unchecked, "input")
        ));
    }
    line
}

/// `1 error`, `2 errors`.
pub(super) fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn input_error(out: &mut String, style: &Style, error: &InputError, file: Option<&File>) {
    let _ = writeln!(out, "{}: {}", style.level(Mode::Enforce), error.message);
    match (error.line, error.column) {
        (Some(line), Some(column)) => {
            let _ = writeln!(out, "  --> {}:{line}:{column}", error.file);
            if let Some(file) = file {
                let point = counsel::source::Position {
                    offset: 0,
                    line,
                    column,
                };
                snippet(
                    out,
                    style,
                    &Place {
                        file,
                        span: Span {
                            start: point,
                            end: point,
                        },
                        label: String::new(),
                    },
                );
            }
            out.push('\n');
        }
        _ => {
            let _ = writeln!(out, "  --> {}\n", error.file);
        }
    }
}

fn finding_block(
    out: &mut String,
    style: &Style,
    checked: &Checked,
    file: &File,
    document: &Document,
    finding: &Finding,
) {
    let _ = writeln!(
        out,
        "{}{}: {}: {}",
        style.level(finding.mode),
        style.paint("1", &format!("[{}/{}]", finding.policy, finding.rule)),
        checked.report.object.describe(),
        finding.message
    );
    let place = finding_place(checked, file, document, finding);
    let _ = writeln!(
        out,
        "  --> {}:{}:{}",
        file.name, place.span.start.line, place.span.start.column
    );
    snippet(out, style, &place);
    let note = |out: &mut String, key: &str, value: &str| {
        let _ = writeln!(out, "   = {}: {value}", style.paint("1", key));
    };
    note(
        out,
        "field",
        &format!("{} (found: {})", finding.field, finding.found_text()),
    );
    note(out, "why", &finding.why);
    if let Some(excepted) = finding.excepted_by() {
        let sentence = excepted.sentence();
        note(
            out,
            "excepted",
            sentence.strip_prefix("excepted ").unwrap_or(&sentence),
        );
        if let Some(ticket) = &excepted.ticket {
            note(out, "ticket", ticket);
        }
    }
    if let Some(fix) = finding.fix_summary() {
        let fix = match (finding.fix_safety, finding.mode) {
            (FixSafety::Safe, Mode::Fix) => format!(
                "{fix} (fix mode: the webhook makes this change on admission; counsel check --fix makes it here)"
            ),
            (FixSafety::Safe, _) => fix,
            (FixSafety::Suggestion, _) => format!(
                "{fix} (a suggestion, never made by the webhook: check that it suits the image, then make it with counsel check --fix=all)"
            ),
        };
        note(out, "fix", &fix);
    }
    if let Some(hint) = &finding.hint {
        note(out, "hint", hint);
    }
    if let Some(docs) = &finding.docs {
        note(out, "docs", docs);
    }
    if let Some(contact) = &finding.contact {
        note(out, "contact", contact);
    }
    if let Some(owner) = &finding.owner {
        note(out, "owner", owner);
    }
    out.push('\n');
}

/// Where a finding points: the field itself, or when it is missing, the
/// nearest parent that exists.
fn finding_place<'a>(
    checked: &Checked,
    file: &'a File,
    document: &Document,
    finding: &Finding,
) -> Place<'a> {
    let pointer = format!("{}{}", checked.object.prefix, finding.pointer);
    let (span, located) = inputs::point(document, &pointer);
    let label = if located.exact {
        format!("found: {}", finding.found_text())
    } else {
        let missing = pointer.get(located.pointer.len()..).unwrap_or_default();
        format!("{} is not set", field_path(missing, None))
    };
    Place { file, span, label }
}

fn object_place<'a>(checked: &Checked, file: &'a File, document: &Document) -> Place<'a> {
    Place {
        file,
        span: document.locate(&checked.object.prefix).span,
        label: String::new(),
    }
}

/// The source line of `place` with carets under its span (the first line
/// of it, for spans that run over several lines).
fn snippet(out: &mut String, style: &Style, place: &Place<'_>) {
    let line_number = place.span.start.line;
    let Some(line) = place.file.line(line_number) else {
        return;
    };
    let gutter = " ".repeat(line_number.to_string().len());
    let start = place.span.start.column.saturating_sub(1);
    let width = line.chars().count();
    let end = if place.span.end.line == line_number {
        place.span.end.column.saturating_sub(1).min(width)
    } else {
        width
    };
    let carets = "^".repeat(end.saturating_sub(start).max(1));
    let bar = style.paint("1;34", "|");
    let _ = writeln!(out, "{gutter} {bar}");
    let _ = writeln!(
        out,
        "{} {bar} {line}",
        style.paint("1;34", &line_number.to_string())
    );
    let label = if place.label.is_empty() {
        String::new()
    } else {
        format!(" {}", place.label)
    };
    let _ = writeln!(
        out,
        "{gutter} {bar} {}{}",
        " ".repeat(start),
        style.paint("1;31", &format!("{carets}{label}"))
    );
    let _ = writeln!(out, "{gutter} {bar}");
}
