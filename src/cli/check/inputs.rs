//! From command-line paths to the objects to check: files, directories and
//! standard input; multi-document YAML; `List` kinds.

use std::io::Read;
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

/// One object found in the input.
#[derive(Debug, Clone)]
pub struct Object {
    /// Index of its file in [`super::Outcome::files`].
    pub file: usize,
    /// Index of its document in the file.
    pub document: usize,
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
}

/// Reads every path; files that cannot be read or parsed become errors.
pub fn read(paths: &[PathBuf]) -> (Vec<File>, Vec<InputError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            match std::io::stdin().read_to_string(&mut text) {
                Ok(_) => files.push(parse("-".into(), text, &mut errors)),
                Err(e) => errors.push(whole_file("-", format!("cannot read standard input: {e}"))),
            }
            continue;
        }
        let mut found = Vec::new();
        if let Err(message) = walk(path, &mut found) {
            errors.push(whole_file(&path.display().to_string(), message));
        }
        for file in found {
            let name = file.display().to_string();
            match std::fs::read_to_string(&file) {
                Ok(text) => files.push(parse(name, text, &mut errors)),
                Err(e) => errors.push(whole_file(&name, format!("cannot read: {e}"))),
            }
        }
    }
    (files, errors)
}

fn whole_file(file: &str, message: String) -> InputError {
    InputError {
        file: file.into(),
        line: None,
        column: None,
        message,
    }
}

/// Collects the manifest files at `path`: the file itself, or every file
/// with a manifest extension below a directory, in name order.
fn walk(path: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let metadata = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !metadata.is_dir() {
        found.push(path.to_path_buf());
        return Ok(());
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("cannot list the directory: {e}"))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for entry in entries {
        if entry.is_dir() {
            walk(&entry, found)?;
        } else if entry
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| EXTENSIONS.contains(&e))
        {
            found.push(entry);
        }
    }
    Ok(())
}

fn parse(name: String, text: String, errors: &mut Vec<InputError>) -> File {
    let documents = match source::parse(&text) {
        Ok(documents) => documents,
        Err(e) => {
            errors.push(InputError {
                file: name.clone(),
                line: Some(e.line),
                column: Some(e.column),
                message: e.message.clone(),
            });
            Vec::new()
        }
    };
    File {
        name,
        text,
        documents,
    }
}

/// The objects of a file: each document, or each item of a `List`. A
/// document that is not a Kubernetes object becomes an error and the others
/// are still checked.
pub fn objects(file_index: usize, file: &File, errors: &mut Vec<InputError>) -> Vec<Object> {
    let mut objects = Vec::new();
    for (document_index, document) in file.documents.iter().enumerate() {
        let mut candidates = Vec::new();
        match &document.value {
            Value::Null => continue,
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
        for (prefix, value) in candidates {
            let error = |message: String| {
                let span = document.locate(&prefix).span;
                InputError {
                    file: file.name.clone(),
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
                file: file_index,
                document: document_index,
                prefix,
                value: value.clone(),
            });
        }
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
