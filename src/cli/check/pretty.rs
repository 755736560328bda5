//! Diagnostics in the manner of rustc: the rule and message, the file, line
//! and column, the source line with a caret under the field, then why, the
//! fix and where to read more.

use std::fmt::Write;

use counsel::config::{FailurePolicy, Mode};
use counsel::engine::FixSafety;
use counsel::explain::{Finding, field_path};
use counsel::source::Span;

use super::inputs::{self, Checked, InputError};
use super::{File, Fixes, Outcome};

/// A location in a file, and what to say under the caret.
struct Place<'a> {
    file: &'a File,
    span: Span,
    label: String,
}

struct Style {
    color: bool,
}

impl Style {
    fn paint(&self, code: &str, text: &str) -> String {
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

/// Renders the whole outcome.
pub fn render(outcome: &Outcome, color: bool) -> String {
    let style = Style { color };
    let mut out = String::new();
    if let Some(fixes) = &outcome.fixes {
        fix_section(&mut out, &style, fixes, outcome);
    }
    for error in &outcome.errors {
        input_error(&mut out, &style, error, outcome);
    }
    let (mut errors, mut warnings, mut notes) = (0, 0, 0);
    // A dry run's findings would point at lines of text that is not on disk.
    let detailed = !outcome.fixes.as_ref().is_some_and(|fixes| fixes.dry_run);
    for checked in &outcome.checked {
        let file = &outcome.files[checked.object.file];
        for finding in &checked.report.findings {
            match finding.mode {
                Mode::Enforce => errors += 1,
                Mode::Warn | Mode::Fix => warnings += 1,
                Mode::Audit => notes += 1,
            }
            if detailed {
                finding_block(&mut out, &style, checked, file, finding);
            }
        }
        if !detailed {
            continue;
        }
        for failure in &checked.report.failures {
            let level = match failure.failure_policy {
                FailurePolicy::Fail => {
                    errors += 1;
                    style.level(Mode::Enforce)
                }
                FailurePolicy::Ignore => {
                    warnings += 1;
                    style.level(Mode::Warn)
                }
            };
            let _ = writeln!(
                out,
                "{level}: {}: {}",
                checked.report.object.describe(),
                failure.sentence()
            );
            let place = object_place(checked, file);
            let _ = writeln!(
                out,
                "  --> {}:{}:{}\n",
                file.name, place.span.start.line, place.span.start.column
            );
        }
        for warning in &checked.report.warnings {
            warnings += 1;
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
    let _ = writeln!(out, "{}", summary(errors, warnings, notes, outcome));
    if let Some(fixes) = &outcome.fixes {
        let _ = writeln!(out, "{}", fix_summary(fixes, outcome));
    }
    out
}

/// The diffs (dry run) or one line per fixed file, then what was left for a
/// person and why.
fn fix_section(out: &mut String, style: &Style, fixes: &Fixes, outcome: &Outcome) {
    for file in &fixes.files {
        let name = &outcome.files[file.file].name;
        if fixes.dry_run {
            out.push_str(&file.diff);
            if !file.diff.is_empty() && !file.diff.ends_with('\n') {
                out.push('\n');
            }
        } else if file.fixed > 0 && file.write_error.is_none() {
            let _ = writeln!(
                out,
                "{}: {name}: {} ({})\n",
                style.paint("1;32", "fixed"),
                plural(file.fixed, "violation"),
                counted(&file.fixed_labels)
            );
        }
        for left in &file.left {
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
}

/// `fixed 3 violations in 1 file; 2 need a person`.
fn fix_summary(fixes: &Fixes, outcome: &Outcome) -> String {
    let files = plural(fixes.changed_files(), "file");
    let left = outcome.need_a_person();
    if fixes.dry_run {
        format!(
            "dry run: would fix {} in {files} (nothing was written); {left} would need a person",
            plural(fixes.fixed(), "violation")
        )
    } else {
        format!(
            "fixed {} in {files}; {left} {} a person",
            plural(fixes.fixed(), "violation"),
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

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

fn input_error(out: &mut String, style: &Style, error: &InputError, outcome: &Outcome) {
    let _ = writeln!(out, "{}: {}", style.level(Mode::Enforce), error.message);
    match (error.line, error.column) {
        (Some(line), Some(column)) => {
            let _ = writeln!(out, "  --> {}:{line}:{column}", error.file);
            if let Some(file) = outcome.files.iter().find(|f| f.name == error.file) {
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
    let place = finding_place(checked, file, finding);
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
    out.push('\n');
}

/// Where a finding points: the field itself, or when it is missing, the
/// nearest parent that exists.
fn finding_place<'a>(checked: &Checked, file: &'a File, finding: &Finding) -> Place<'a> {
    let document = &file.documents[checked.object.document];
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

fn object_place<'a>(checked: &Checked, file: &'a File) -> Place<'a> {
    let document = &file.documents[checked.object.document];
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
    let Some(line) = place.file.text.lines().nth(line_number.saturating_sub(1)) else {
        return;
    };
    let line = line.trim_end_matches('\r');
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

fn summary(errors: usize, warnings: usize, notes: usize, outcome: &Outcome) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    let objects = outcome.checked.len();
    let mut parts = vec![plural(errors, "error"), plural(warnings, "warning")];
    if notes > 0 {
        parts.push(plural(notes, "note"));
    }
    let mut line = format!("{} in {}", parts.join(", "), plural(objects, "object"));
    if !outcome.errors.is_empty() {
        line.push_str(&format!(
            "; {} could not be checked",
            plural(outcome.errors.len(), "input")
        ));
    }
    line
}
