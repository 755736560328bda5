//! From command-line paths to the objects to check: files, directories
//! (each file and directory once, however many links lead to it) and
//! standard input; multi-document YAML; `List` kinds.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};

use counsel::explain::Report;
use counsel::source::{self, Document, Located, Span};
use serde_json::Value;

use super::File;

/// Extensions searched for in directories.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Something that could not be checked, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The file's name as shown.
    pub file: String,
    /// Where in it, when known (1-based).
    pub line: Option<usize>,
    /// The column, when known (1-based).
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// A path reached again through a link, and so not read twice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The path as reached.
    pub path: String,
    /// Why it was skipped (what it is the same as).
    pub reason: String,
}

/// One object found in the input.
#[derive(Debug, Clone)]
pub struct Object {
    /// Pointer from the document to the object: empty, or `/items/N` for
    /// an item of a `List`.
    pub prefix: String,
    /// The object.
    pub value: Value,
}

/// An object and what the policies said of it.
pub struct Checked {
    /// The object.
    pub object: Object,
    /// The report.
    pub report: Report,
    /// Per finding, its fix as text replacements in the file (only for
    /// outputs that show them; empty otherwise).
    pub fixes: Vec<Option<std::rc::Rc<super::suggestions::FindingFix>>>,
}

/// A file to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    Path(PathBuf),
}

/// What the command-line paths lead to.
#[derive(Debug, Default)]
pub struct Found {
    /// Every file to read, each once, in order.
    pub inputs: Vec<Input>,
    /// Paths that could not be searched.
    pub errors: Vec<InputError>,
    /// Files and directories reached again, not read twice.
    pub skipped: Vec<Skipped>,
}

/// Device and inode: what makes a file the same file, whatever its name.
type Identity = (u64, u64);

/// Collects the manifest files at every path: the file itself, or every
/// file with a manifest extension below a directory, in name order. Links
/// are followed, but a directory or file reached a second time (a link loop,
/// two links to one place, hard links) is searched or read once only, and
/// said so.
pub fn find(paths: &[PathBuf]) -> Found {
    let mut walk = Walk::default();
    for path in paths {
        if path.as_os_str() == "-" {
            walk.found.inputs.push(Input::Stdin);
        } else if let Err(message) = walk.path(path, true) {
            walk.found
                .errors
                .push(whole_file(&path.display().to_string(), message));
        }
    }
    walk.found
}

#[derive(Default)]
struct Walk {
    found: Found,
    /// Directories searched and files taken, by identity, with the path
    /// they were first reached by.
    directories: HashMap<Identity, PathBuf>,
    files: HashMap<Identity, PathBuf>,
}

impl Walk {
    /// `named`: the path was given on the command line (any extension).
    fn path(&mut self, path: &Path, named: bool) -> Result<(), String> {
        let manifest = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e));
        let metadata = match std::fs::metadata(path) {
            Ok(metadata) => metadata,
            // A broken link among other files is no manifest of ours.
            Err(_) if !(named || manifest) => return Ok(()),
            Err(e) => return Err(format!("cannot read: {e}")),
        };
        let identity = (metadata.dev(), metadata.ino());
        if metadata.is_dir() {
            if let Some(first) = self.directories.get(&identity) {
                let reason = if path.starts_with(first) {
                    format!(
                        "a link back to {}, which is being searched (a loop); not searched again",
                        first.display()
                    )
                } else {
                    format!(
                        "the same directory as {}, already searched; not searched again",
                        first.display()
                    )
                };
                self.skip(path, reason);
                return Ok(());
            }
            self.directories.insert(identity, path.to_path_buf());
            let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot list the directory: {e}"))?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            for entry in entries {
                if let Err(message) = self.path(&entry, false) {
                    // A broken link or an unreadable entry: said, and the search goes on.
                    let name = entry.display().to_string();
                    self.found.errors.push(whole_file(&name, message));
                }
            }
            return Ok(());
        }
        if !(named || manifest) {
            return Ok(());
        }
        if let Some(first) = self.files.get(&identity) {
            let reason = format!(
                "the same file as {}, already checked; not checked again",
                first.display()
            );
            self.skip(path, reason);
            return Ok(());
        }
        self.files.insert(identity, path.to_path_buf());
        self.found.inputs.push(Input::Path(path.to_path_buf()));
        Ok(())
    }

    fn skip(&mut self, path: &Path, reason: String) {
        self.found.skipped.push(Skipped {
            path: path.display().to_string(),
            reason,
        });
    }
}

/// Reads one input: its bytes as text (see `counsel::source::decode`), and
/// what it was on disk, so that `--fix` can tell whether it changed since.
pub fn read(input: &Input) -> Result<File, InputError> {
    let (name, bytes, disk) = match input {
        Input::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .read_to_end(&mut bytes)
                .map_err(|e| whole_file("-", format!("cannot read standard input: {e}")))?;
            ("-".to_owned(), bytes, None)
        }
        Input::Path(path) => {
            let name = path.display().to_string();
            let bytes =
                std::fs::read(path).map_err(|e| whole_file(&name, format!("cannot read: {e}")))?;
            (name, bytes, Some(path.clone()))
        }
    };
    let encoding = match source::decode(&bytes) {
        Ok((_, encoding)) => encoding,
        Err(error) => {
            return Err(InputError {
                file: name,
                line: Some(error.line),
                column: Some(error.column),
                message: error.message,
            });
        }
    };
    let text = match encoding {
        source::Encoding::Utf8 => String::from_utf8(bytes)
            .map_err(|e| whole_file(&name, format!("this is not UTF-8 text: {e}")))?,
        _ => source::decode(&bytes)
            .map(|(text, _)| text.into_owned())
            .map_err(|e| whole_file(&name, e.message))?,
    };
    Ok(File::new(name, text, encoding, disk))
}

pub fn whole_file(file: &str, message: String) -> InputError {
    InputError {
        file: file.into(),
        line: None,
        column: None,
        message,
    }
}

/// The objects of one document: the document, or each item of a `List`.
/// What is not a Kubernetes object becomes an error and the others are
/// still checked.
pub fn objects(file: &str, document: &Document, errors: &mut Vec<InputError>) -> Vec<Object> {
    let mut candidates = Vec::new();
    match &document.value {
        Value::Null => return Vec::new(),
        Value::Object(map) if is_list(map) => {
            let items = map
                .get("items")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            candidates.extend(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| (format!("/items/{i}"), item)),
            );
        }
        value => candidates.push((String::new(), value)),
    }
    let mut objects = Vec::new();
    for (prefix, value) in candidates {
        let error = |message: String| {
            let span = document.locate(&prefix).span;
            InputError {
                file: file.to_owned(),
                line: Some(span.start.line),
                column: Some(span.start.column),
                message,
            }
        };
        let Some(map) = value.as_object() else {
            errors.push(error(
                "this document is not a Kubernetes object (a mapping with apiVersion and kind)"
                    .into(),
            ));
            continue;
        };
        let missing: Vec<&str> = ["apiVersion", "kind"]
            .into_iter()
            .filter(|key| {
                map.get(*key)
                    .is_none_or(|v| v.as_str().is_none_or(str::is_empty))
            })
            .collect();
        if !missing.is_empty() {
            errors.push(error(format!(
                "this object has no {}; it cannot be checked",
                missing.join(" and ")
            )));
            continue;
        }
        objects.push(Object {
            prefix,
            value: value.clone(),
        });
    }
    objects
}

/// `kind: List` (or `DeploymentList` and the like) with an `items` array.
fn is_list(map: &serde_json::Map<String, Value>) -> bool {
    map.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.ends_with("List"))
        && map.get("items").is_some_and(Value::is_array)
}

/// Where a diagnostic about `pointer` points: the whole `key: value` of the
/// field, or when the field is missing, its nearest existing parent.
pub fn point(document: &Document, pointer: &str) -> (Span, Located) {
    let located = document.locate(pointer);
    let span = match document.node(&located.pointer) {
        Some(node) => Span {
            start: node.key.unwrap_or(node.value).start,
            end: node.value.end,
        },
        None => located.span,
    };
    (span, located)
}
