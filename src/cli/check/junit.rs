//! `counsel check --output junit`: JUnit XML for CI dashboards (GitLab's
//! test reports, Jenkins, GitHub test-report actions).
//!
//! One `<testsuite>` per object (`name` `file: Kind namespace/name`), and in
//! it one `<testcase>` per policy that judged the object (`classname` the
//! file, `name` `Kind namespace/name: policy`: stable from run to run), with
//! a `<failure>` per violation that fails the run (`--fail-on`), the others
//! in `<system-out>`, and an `<error>` for a policy that failed. What could
//! not be checked is a suite of one test case with an `<error>`. Each suite
//! is written as soon as its object is checked (its counts are known then);
//! text is escaped for XML 1.0, and characters XML cannot hold at all are
//! written as `\u{..}`.

use std::fmt::Write as _;

use counsel::source::Document;

use super::inputs::{self, Checked, InputError};
use super::{FailOn, File, Renderer, Totals};

/// The JUnit renderer.
pub struct Junit {
    fail_on: FailOn,
}

impl Junit {
    pub fn new(fail_on: FailOn) -> Self {
        Junit { fail_on }
    }
}

impl Renderer for Junit {
    fn start(&mut self, out: &mut String) {
        out.push_str(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"counsel check\">\n",
        );
    }

    /// An input that could not be checked: a suite of one erroneous case.
    fn error(&mut self, out: &mut String, error: &InputError, _: Option<&File>) {
        let place = match (error.line, error.column) {
            (Some(line), Some(column)) => format!("{}:{line}:{column}", error.file),
            _ => error.file.clone(),
        };
        let _ = writeln!(
            out,
            "  <testsuite name=\"{file}\" tests=\"1\" failures=\"0\" errors=\"1\">\n    <testcase classname=\"{file}\" name=\"{}\">\n      <error type=\"input\" message=\"{}\"/>\n    </testcase>\n  </testsuite>",
            xml(&format!("cannot be checked: {place}")),
            xml(&error.message),
            file = xml(&error.file),
        );
    }

    /// The object's suite: one test case per policy that judged it.
    fn checked(&mut self, out: &mut String, file: &File, document: &Document, checked: &Checked) {
        let report = &checked.report;
        let object = report.object.describe();
        let mut cases = String::new();
        let (mut failures, mut errors) = (0, 0);
        for evaluation in &report.evaluations {
            let policy = &evaluation.policy;
            let _ = write!(
                cases,
                "    <testcase classname=\"{}\" name=\"{}\"",
                xml(&file.name),
                xml(&format!("{object}: {policy}"))
            );
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.policy == *policy)
                .collect();
            let failed: Vec<_> = report
                .failures
                .iter()
                .filter(|f| f.policy == *policy)
                .collect();
            if findings.is_empty() && failed.is_empty() {
                cases.push_str("/>\n");
                continue;
            }
            cases.push_str(">\n");
            let mut passing = String::new();
            // Counted per test case, as JUnit counts (a case may hold several failures).
            let mut failing = false;
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
                    failing = true;
                    let _ = writeln!(
                        cases,
                        "      <failure type=\"{}\" message=\"{}\">{}</failure>",
                        xml(&format!("{}/{}", finding.policy, finding.rule)),
                        xml(&finding.message_with_exception()),
                        content(&text)
                    );
                } else {
                    let _ = write!(
                        passing,
                        "{} {}: {}\n{text}\n\n",
                        finding.mode.as_str(),
                        finding.label(),
                        finding.message_with_exception()
                    );
                }
            }
            failures += usize::from(failing);
            errors += usize::from(!failed.is_empty());
            for failure in failed {
                let _ = writeln!(
                    cases,
                    "      <error type=\"{}\" message=\"{}\"/>",
                    xml(failure.failure.cause()),
                    xml(&failure.sentence())
                );
            }
            if !passing.is_empty() {
                let _ = writeln!(
                    cases,
                    "      <system-out>{}</system-out>",
                    content(passing.trim_end())
                );
            }
            cases.push_str("    </testcase>\n");
        }
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\">",
            xml(&format!("{}: {object}", file.name)),
            report.evaluations.len()
        );
        out.push_str(&cases);
        out.push_str("  </testsuite>\n");
    }

    /// The end of the document.
    fn finish(&mut self, out: &mut String, _: &Totals, _: Option<bool>) {
        out.push_str("</testsuites>\n");
    }
}

/// Text escaped for an XML 1.0 attribute value.
pub(in crate::cli) fn xml(text: &str) -> String {
    escape(text, true)
}

/// Text escaped for XML 1.0 element content (line breaks kept as they are).
pub(in crate::cli) fn content(text: &str) -> String {
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
