//! `counsel check --output github`: GitHub Actions workflow commands, one
//! per finding (`::error file=F,line=L,col=C,endLine=..,endColumn=..,title=T::message`),
//! which GitHub shows as annotations on the pull request's files, then the
//! counts as a plain line.
//!
//! Escaping is GitHub's (the runner's `toCommandValue`/`escapeProperty`):
//! in the message `%`, CR and LF become `%25`, `%0D`, `%0A`; in properties
//! `:` and `,` also become `%3A` and `%2C`.

use std::fmt::Write as _;

use counsel::config::{FailurePolicy, Mode};
use counsel::source::Document;

use super::base::Base;
use super::fix::FileFix;
use super::inputs::{self, Checked, InputError, Skipped};
use super::pretty::{counts, plural};
use super::{File, Renderer, Totals};

/// The GitHub renderer.
pub struct Github {
    base: Base,
    errors: usize,
    warnings: usize,
    notices: usize,
}

impl Github {
    pub fn new(base: Base) -> Self {
        Github {
            base,
            errors: 0,
            warnings: 0,
            notices: 0,
        }
    }

    fn file(&self, file: &File) -> Vec<(&'static str, String)> {
        if file.path.is_none() {
            return Vec::new();
        }
        vec![("file", self.path(&file.name, Some(file)))]
    }

    /// The path GitHub knows the file by: relative to the repository root.
    fn path(&self, name: &str, file: Option<&File>) -> String {
        file.and_then(|file| self.base.relative(file))
            .unwrap_or_else(|| name.to_owned())
    }

    fn command(
        &mut self,
        out: &mut String,
        level: &str,
        properties: &[(&str, String)],
        message: &str,
    ) {
        match level {
            "error" => self.errors += 1,
            "warning" => self.warnings += 1,
            _ => self.notices += 1,
        }
        out.push_str("::");
        out.push_str(level);
        for (i, (key, value)) in properties.iter().enumerate() {
            out.push(if i == 0 { ' ' } else { ',' });
            out.push_str(key);
            out.push('=');
            escape(out, value, true);
        }
        out.push_str("::");
        escape(out, message, false);
        out.push('\n');
    }
}

impl Renderer for Github {
    fn skipped(&mut self, out: &mut String, skipped: &Skipped) {
        let message = format!("{}: {}", skipped.path, skipped.reason);
        self.command(out, "notice", &[], &message);
    }

    /// An input that could not be checked, at its place when known.
    fn error(&mut self, out: &mut String, error: &InputError, _: Option<&File>) {
        let mut properties = Vec::new();
        if error.file != "-" {
            properties.push(("file", self.path(&error.file, None)));
        }
        if let (Some(line), Some(column)) = (error.line, error.column) {
            properties.push(("line", line.to_string()));
            properties.push(("col", column.to_string()));
        }
        properties.push(("title", "counsel: cannot check this".to_owned()));
        self.command(out, "error", &properties, &error.message);
    }

    /// One annotation per finding, failure and warning of an object.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked) {
        let object = checked.report.object.describe();
        let at = |pointer: &str| {
            let (span, _) = inputs::point(document, &format!("{}{pointer}", checked.object.prefix));
            span
        };
        for finding in &checked.report.findings {
            let span = at(&finding.pointer);
            let mut properties = self.file(file);
            properties.extend([
                ("line", span.start.line.to_string()),
                ("col", span.start.column.to_string()),
            ]);
            // A span over several lines is a parent of a missing field: its first line says enough.
            if span.end.line == span.start.line {
                properties.push(("endColumn", span.end.column.to_string()));
            }
            properties.push(("title", format!("{} {object}", finding.label())));
            let mut message = format!("{}\nwhy: {}", finding.message_with_exception(), finding.why);
            if let Some(fix) = finding.fix_summary() {
                let _ = write!(message, "\nfix: {fix} ({})", finding.fix_safety.as_str());
            }
            for (key, value) in [("docs", &finding.docs), ("contact", &finding.contact)] {
                if let Some(value) = value {
                    let _ = write!(message, "\n{key}: {value}");
                }
            }
            let level = match finding.mode {
                Mode::Enforce => "error",
                Mode::Warn | Mode::Fix => "warning",
                Mode::Audit => "notice",
            };
            self.command(out, level, &properties, &message);
        }
        let span = at("");
        let mut properties = self.file(file);
        properties.push(("line", span.start.line.to_string()));
        for failure in &checked.report.failures {
            let level = match failure.failure_policy {
                FailurePolicy::Fail => "error",
                FailurePolicy::Ignore => "warning",
            };
            let message = format!("{object}: {}", failure.sentence());
            self.command(out, level, &properties, &message);
        }
        for warning in &checked.report.warnings {
            let message = format!("[{}] {object}: {}", warning.policy, warning.message);
            self.command(out, "warning", &properties, &message);
        }
    }

    /// What `--fix` left for a person, as warnings on the objects' lines.
    fn fixed(&mut self, out: &mut String, file: &File, fixed: &FileFix) {
        for left in &fixed.left {
            let mut properties = self.file(file);
            properties.push(("line", left.line.to_string()));
            let message = format!("{}: {}", left.object, left.reason);
            self.command(out, "warning", &properties, &message);
        }
    }

    /// The counts, as a plain line of the log.
    fn finish(&mut self, out: &mut String, totals: &Totals, _: Option<bool>) {
        let parts = [
            plural(self.errors, "error"),
            plural(self.warnings, "warning"),
            plural(self.notices, "notice"),
        ];
        let _ = writeln!(out, "counsel: {}", counts(&parts, totals));
    }
}

/// GitHub's escaping of a command's message, or (`property`) of a property value.
fn escape(out: &mut String, text: &str, property: bool) {
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_follows_github() {
        let mut out = String::new();
        super::escape(&mut out, "a: b, 100%\r\nc", true);
        assert_eq!(out, "a%3A b%2C 100%25%0D%0Ac");
        out.clear();
        super::escape(&mut out, "a: b, 100%\nc", false);
        assert_eq!(out, "a: b, 100%25%0Ac");
    }
}
