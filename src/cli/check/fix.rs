//! `counsel check --fix`: the machine fixes of enforce, warn and fix-mode
//! findings (safe ones, or with `--fix=all` suggestions too), made in the developer's own files (minimal edits, one document
//! at a time), written atomically only over the very file that was read, or
//! shown as a unified diff with `--dry-run`.

use std::io::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::Path;

use counsel::config::Mode;
use counsel::fix::{self, FileFixer, FixScope, Layout, ObjectFix, ObjectOutcome};
use counsel::source;

use super::inputs::{self, Checked};
use super::{Checker, File};

/// Modes whose findings `--fix` fixes; audit findings are for ops and left alone.
pub const FIXED_MODES: [Mode; 3] = [Mode::Enforce, Mode::Warn, Mode::Fix];

/// What `--fix` did to one file.
#[derive(Debug, Clone, Default)]
pub struct FileFix {
    /// Violations whose fixes were made (or would be, on a dry run).
    pub fixed: usize,
    /// `[policy/rule]` of each fixed violation.
    pub fixed_labels: Vec<String>,
    /// Objects or fixes left for a person, with the reason.
    pub left: Vec<LeftOut>,
    /// The unified diff of the change (empty when nothing changed).
    pub diff: String,
    /// Why the file could not be written, when it could not.
    pub write_error: Option<String>,
}

impl FileFix {
    /// Whether the file was changed (or would be, on a dry run).
    pub fn changed(&self) -> bool {
        !self.diff.is_empty() && self.write_error.is_none()
    }
}

/// Fixes not made, and why.
#[derive(Debug, Clone)]
pub struct LeftOut {
    /// The object (`Deployment shop/web`).
    pub object: String,
    /// Line of the object in the file.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// Makes the fixes `scope` allows of one file's findings, a document at a time. The file
/// is rewritten unless `dry_run`; either way `file` then holds the fixed
/// text, to be checked again. A file that cannot be written (or changed
/// since it was read) keeps its old text. A file that does not parse is left
/// alone (checking it reports why).
pub fn fix_file(
    checker: &Checker,
    file: &mut File,
    scope: FixScope,
    dry_run: bool,
) -> anyhow::Result<FileFix> {
    let mut result = FileFix::default();
    // How the file indents, read off all of it before the first edit.
    let mut layout = Layout::reader(&file.text);
    if source::parse_each(&file.text, |document| layout.read(&document)).is_err() {
        return Ok(result);
    }
    let mut fixer = FileFixer::new(&file.text, layout.finish());
    let mut failed = None;
    let read = source::parse_each(&file.text, |document| {
        let mut units = Vec::new();
        // Per unit of edits: the finding's label, its object's name and line.
        let mut about = Vec::new();
        // What cannot be checked is reported when the fixed file is checked.
        let mut ignored = Vec::new();
        for object in inputs::objects(&file.name, &document, &mut ignored) {
            let report = match checker.review(&object.value) {
                Ok(report) => report,
                Err(error) => {
                    failed.get_or_insert(error);
                    continue;
                }
            };
            let checked = Checked {
                object,
                report,
                fixes: Vec::new(),
            };
            let object = &checked.object;
            let findings = checked.report.findings.iter().filter(|finding| {
                // What an exception lets through is left as it is.
                FIXED_MODES.contains(&finding.mode) && finding.excepted_by().is_none()
            });
            let selection = fix::select(findings, Some(&object.value), scope);
            let name = checked.report.object.describe();
            let line = document.locate(&object.prefix).span.start.line;
            for conflict in &selection.conflicts {
                result.left.push(LeftOut {
                    object: name.clone(),
                    line,
                    reason: conflict.to_string(),
                });
            }
            for finding in &selection.suggested {
                result.left.push(LeftOut {
                    object: name.clone(),
                    line,
                    reason: format!(
                        "{} not fixed: its fix is only a suggestion ({}); make it with --fix=all if it suits the image",
                        finding.label(),
                        finding.fix_summary().unwrap_or_default()
                    ),
                });
            }
            // Each finding's fixes are a unit, made or refused on its own, so
            // that one fix the editor must leave alone does not hold back the others.
            for finding in selection.fixed {
                units.push(ObjectFix {
                    document: document.index,
                    prefix: object.prefix.clone(),
                    edits: finding.fixes.clone(),
                });
                about.push((finding.label(), name.clone(), line));
            }
        }
        let outcomes = fixer.document(&document, &units);
        for (outcome, (label, object, line)) in outcomes.into_iter().zip(about) {
            match outcome {
                // Unchanged: an earlier finding made the same edit.
                ObjectOutcome::Fixed | ObjectOutcome::Unchanged => {
                    result.fixed += 1;
                    result.fixed_labels.push(label);
                }
                ObjectOutcome::Refused(reason) => result.left.push(LeftOut {
                    object,
                    line,
                    reason: format!("{label} not fixed: {reason}"),
                }),
            }
        }
    });
    if let Some(error) = failed {
        return Err(error);
    }
    if read.is_err() {
        return Ok(FileFix::default());
    }
    let fixed = match fixer.finish() {
        Ok(Some(fixed)) => fixed,
        Ok(None) => return Ok(result),
        Err(reason) => {
            result.fixed = 0;
            result.fixed_labels.clear();
            result.left.push(LeftOut {
                object: "the file".into(),
                line: 1,
                reason,
            });
            return Ok(result);
        }
    };
    result.diff = fixed.diff(&file.name);
    let new_text = fixed.text;
    let written = match (&file.path, dry_run) {
        (_, true) => Ok(()),
        (Some(path), false) => write_safely(path, file, &new_text),
        (None, false) => Err("standard input cannot be fixed".to_owned()),
    };
    match written {
        Ok(()) => file.replace_text(new_text),
        Err(error) => {
            result.write_error = Some(error);
            result.fixed = 0;
            result.fixed_labels.clear();
        }
    }
    Ok(result)
}

/// Replaces the file's content in one step: a temporary file beside it,
/// with its owner, group and permissions, renamed over it, but only while it
/// still holds exactly what was read (another program may have written it
/// since: its change is kept and this one dropped). A symbolic link is
/// followed, so the file it points to is rewritten and the link stays.
fn write_safely(path: &Path, file: &File, text: &str) -> Result<(), String> {
    let target =
        std::fs::canonicalize(path).map_err(|e| format!("cannot resolve the path: {e}"))?;
    let directory = target.parent().unwrap_or(Path::new("."));
    let metadata =
        std::fs::metadata(&target).map_err(|e| format!("cannot read its permissions: {e}"))?;
    let mut temporary = tempfile::Builder::new()
        .prefix(".counsel-fix-")
        .tempfile_in(directory)
        .map_err(|e| {
            format!(
                "cannot create a temporary file in {}: {e}",
                directory.display()
            )
        })?;
    temporary
        .write_all(&file.encoding.encode(text))
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    // The owner first: changing it clears set-user-ID and set-group-ID bits.
    std::os::unix::fs::fchown(
        temporary.as_file(),
        Some(metadata.uid()),
        Some(metadata.gid()),
    )
    .map_err(|e| {
        format!(
            "cannot give the new file the owner and group of the old one (uid {}, gid {}): {e}",
            metadata.uid(),
            metadata.gid()
        )
    })?;
    std::fs::set_permissions(temporary.path(), metadata.permissions())
        .map_err(|e| format!("cannot copy the permissions: {e}"))?;
    // As late as possible before the rename: is it still the file that was read?
    let now = std::fs::read(&target).map_err(|e| format!("cannot read it again: {e}"))?;
    let still = std::fs::metadata(&target).is_ok_and(|m| m.ino() == metadata.ino());
    if !still || now != *file.encoding.encode(&file.text) {
        return Err(
            "it changed while counsel was fixing it (another program wrote it); its new content is kept: run counsel check --fix again"
                .into(),
        );
    }
    temporary
        .persist(&target)
        .map_err(|e| format!("cannot replace the file: {}", e.error))?;
    Ok(())
}
