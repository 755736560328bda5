//! `counsel check --output junit`: JUnit XML for CI dashboards (GitLab's
//! test reports, Jenkins, GitHub test-report actions).
//!
//! One `<testsuite>` per file and in it one `<testcase>` per object and
//! policy that judged it (`classname` the file, `name` `Kind
//! namespace/name: policy`, stable from run to run), with a `<failure>` per
//! violation that fails the run (`--fail-on`), the others in `<system-out>`,
//! and an `<error>` for a policy that failed. What could not be checked is
//! a test case with an `<error>` too. A file's test cases are kept until the
//! file is done (its counts come first); text is escaped for XML 1.0, and
//! characters XML cannot hold at all are written as `\u{..}`.

use std::fmt::Write as _;

use counsel::source::Document;

use super::inputs::{self, Checked, InputError};
use super::{FailOn, File};

/// The JUnit renderer.
pub struct Junit {
    fail_on: FailOn,
    /// The current file's test cases and their counts.
    cases: String,
    tests: usize,
    failures: usize,
    errors: usize,
    /// Errors of inputs that are not a file being read (paths that cannot
    /// be read), as one suite at the end.
    unread: Vec<InputError>,
}

impl Junit {
    pub fn new(fail_on: FailOn) -> Self {
        Junit {
            fail_on,
            cases: String::new(),
            tests: 0,
            failures: 0,
            errors: 0,
            unread: Vec::new(),
        }
    }

    pub fn start(&self, out: &mut String) {
        out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"counsel check\">\n");
    }

    /// An input that could not be checked.
    pub fn error(&mut self, error: &InputError) {
        self.unread.push(error.clone());
    }

    /// One test case per policy that judged the object.
    pub fn checked(&mut self, file: &File, document: &Document, checked: &Checked) {
        let report = &checked.report;
        let object = report.object.describe();
        for evaluation in &report.evaluations {
            let policy = &evaluation.policy;
            self.tests += 1;
            let _ = write!(
                self.cases,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&file.name),
                xml(&format!("{object}: {policy}"))
            );
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.policy == *policy)
                .collect();
            let failures: Vec<_> = report.failures.iter().filter(|f| f.policy == *policy).collect();
            if findings.is_empty() && failures.is_empty() {
                self.cases.push_str("/>\n");
                continue;
            }
            self.cases.push_str(">\n");
            let mut passing = String::new();
            for finding in findings {
                let pointer = format!("{}{}", checked.object.prefix, finding.pointer);
                let (span, _) = inputs::point(document, &pointer);
                let mut text = format!(
                    "{}:{}:{}\nfield: {} (found: {})\nwhy: {}",
                    file.name,
                    span.start.line,
                    span.start.column,
                    finding.field,
                    finding.found_text(),
                    finding.why
                );
                if let Some(fix) = finding.fix_summary() {
                    let _ = write!(text, "\nfix: {fix} ({})", finding.fix_safety.as_str());
                }
                if let Some(docs) = &finding.docs {
                    let _ = write!(text, "\ndocs: {docs}");
                }
                if self.fail_on.fails(finding.mode) {
                    self.failures += 1;
                    let _ = writeln!(
                        self.cases,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        xml(&format!("{}/{}", finding.policy, finding.rule)),
                        xml(&finding.message),
                        content(&text)
                    );
                } else {
                    let _ = write!(
                        passing,
                        "{} {}: {}\n{text}\n\n",
                        finding.mode.as_str(),
                        finding.label(),
                        finding.message
                    );
                }
            }
            for failure in failures {
                self.errors += 1;
                let _ = writeln!(
                    self.cases,
                    "      <error type=\"{}\" message=\"{}\"/>",
                    xml(failure.failure.cause()),
                    xml(&failure.sentence())
                );
            }
            if !passing.is_empty() {
                let _ = writeln!(
                    self.cases,
                    "      <system-out>{}</system-out>",
                    content(passing.trim_end())
                );
            }
            self.cases.push_str("    </testcase>\n");
        }
    }

    /// Writes the file's suite.
    pub fn file_done(&mut self, out: &mut String, file: &File) {
        let name = file.name.clone();
        let errors: Vec<InputError> = self
            .unread
            .iter()
            .filter(|e| e.file == name)
            .cloned()
            .collect();
        self.unread.retain(|e| e.file != name);
        for error in &errors {
            self.error_case(error);
        }
        self.suite(out, &name);
    }

    /// Inputs that could not be read, then the end of the document.
    pub fn finish(&mut self, out: &mut String) {
        let unread = std::mem::take(&mut self.unread);
        let mut files: Vec<&str> = unread.iter().map(|e| e.file.as_str()).collect();
        files.dedup();
        for name in files {
            for error in unread.iter().filter(|e| e.file == name) {
                self.error_case(error);
            }
            self.suite(out, name);
        }
        out.push_str("</testsuites>\n");
    }

    fn error_case(&mut self, error: &InputError) {
        self.tests += 1;
        self.errors += 1;
        let place = match (error.line, error.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", error.file),
            _ => error.file.clone(),
        };
        let _ = writeln!(
            self.cases,
            "    <testcase classname=\"{}\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>",
            xml(&error.file),
            xml(&format!("cannot be checked: {place}")),
            xml(&error.message)
        );
    }

    fn suite(&mut self, out: &mut String, name: &str) {
        if self.tests == 0 {
            return;
        }
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\">",
            xml(name),
            self.tests,
            self.failures,
            self.errors
        );
        out.push_str(&self.cases);
        out.push_str("  </testsuite>\n");
        self.cases.clear();
        (self.tests, self.failures, self.errors) = (0, 0, 0);
    }
}

/// Text escaped for an XML 1.0 attribute value.
fn xml(text: &str) -> String {
    escape(text, true)
}

/// Text escaped for XML 1.0 element content (line breaks kept as they are).
fn content(text: &str) -> String {
    escape(text, false)
}

fn escape(text: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if !attribute => out.push('\n'),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Attribute values keep these only as references.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}' => {
                let _ = write!(out, "\\u{{{:X}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_keeps_the_document_well_formed() {
        assert_eq!(
            super::xml("a<b & \"c\"\n\u{1}'"),
            "a&lt;b &amp; &quot;c&quot;&#10;\\u{1}&apos;"
        );
        assert_eq!(super::content("a\nb\r"), "a\nb&#13;");
    }
}
