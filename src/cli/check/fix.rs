//! `counsel check --fix`: the machine fixes of enforce, warn and fix-mode
//! findings (safe ones, or with `--fix=all` suggestions too), made in the
//! developer's own files (minimal edits, written atomically), or shown as a
//! unified diff with `--dry-run`.

use std::io::Write as _;
use std::path::Path;

use counsel::config::Mode;
use counsel::fix::{self, FixScope, ObjectFix, ObjectOutcome};
use counsel::source;

use super::File;
use super::inputs::Checked;

/// Modes whose findings `--fix` fixes; audit findings are for ops and left alone.
pub const FIXED_MODES: [Mode; 3] = [Mode::Enforce, Mode::Warn, Mode::Fix];

/// What `--fix` did to one file.
#[derive(Debug, Clone, Default)]
pub struct FileFix {
    /// Index in the outcome's files.
    pub file: usize,
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

/// Makes the fixes `scope` allows of every file's findings. Files are
/// rewritten unless `dry_run`; either way `files` then hold the fixed text,
/// to be checked again. A file that cannot be written keeps its old text.
pub fn fix_files(
    files: &mut [File],
    checked: &[Checked],
    scope: FixScope,
    dry_run: bool,
) -> Vec<FileFix> {
    let mut results = Vec::new();
    for (index, file) in files.iter_mut().enumerate() {
        let mut result = FileFix {
            file: index,
            ..FileFix::default()
        };
        let mut objects = Vec::new();
        // Per unit of edits: the finding's label, its object's name and line.
        let mut about = Vec::new();
        for checked in checked.iter().filter(|c| c.object.file == index) {
            let object = &checked.object;
            let findings = checked
                .report
                .findings
                .iter()
                .filter(|finding| FIXED_MODES.contains(&finding.mode));
            let selection = fix::select(findings, Some(&object.value), scope);
            let Some(document) = file.documents.get(object.document) else {
                continue;
            };
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
                objects.push(ObjectFix {
                    document: document.index,
                    prefix: object.prefix.clone(),
                    edits: finding.fixes.clone(),
                });
                about.push((finding.label(), name.clone(), line));
            }
        }
        if objects.is_empty() {
            results.push(result);
            continue;
        }
        let fixed = fix::fix_text(&file.text, &file.documents, &objects);
        for (outcome, (label, object, line)) in fixed.outcomes.iter().zip(about) {
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
        if fixed.changed() {
            result.diff = diff(&file.name, &file.text, &fixed.text);
            let written = if dry_run {
                Ok(())
            } else {
                write_atomically(Path::new(&file.name), &fixed.text)
            };
            match (written, source::parse(&fixed.text)) {
                (Ok(()), Ok(documents)) => {
                    file.text = fixed.text;
                    file.documents = documents;
                }
                (Err(error), _) => {
                    result.write_error = Some(error);
                    result.fixed = 0;
                    result.fixed_labels.clear();
                }
                // fix_text reads every text it makes; this cannot happen.
                (Ok(()), Err(error)) => result.write_error = Some(error.to_string()),
            }
        }
        results.push(result);
    }
    results
}

/// `--- name` / `+++ name (fixed)` and the changed hunks.
fn diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(name, &format!("{name} (fixed)"))
        .to_string()
}

/// Replaces the file's content in one step: a temporary file beside it,
/// with its permissions, renamed over it. A symbolic link is followed, so
/// the file it points to is rewritten and the link stays.
fn write_atomically(path: &Path, text: &str) -> Result<(), String> {
    let target =
        std::fs::canonicalize(path).map_err(|e| format!("cannot resolve the path: {e}"))?;
    let directory = target.parent().unwrap_or(Path::new("."));
    let permissions = std::fs::metadata(&target)
        .map_err(|e| format!("cannot read its permissions: {e}"))?
        .permissions();
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
        .write_all(text.as_bytes())
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|e| format!("cannot write the temporary file: {e}"))?;
    std::fs::set_permissions(temporary.path(), permissions)
        .map_err(|e| format!("cannot copy the permissions: {e}"))?;
    temporary
        .persist(&target)
        .map_err(|e| format!("cannot replace the file: {}", e.error))?;
    Ok(())
}
