//! `counsel audit -f`: the objects of manifests, read as `counsel check`
//! reads them (`check/inputs.rs`). The whole input is read before anything
//! is judged: Namespace objects give every object of their namespace its
//! labels and owner wherever they are in the input, and exception objects
//! apply to every object, as in a cluster.

use std::time::SystemTime;

use counsel::exceptions::{self, API_VERSION, CLUSTER_KIND, Exceptions, NAMESPACED_KIND};
use counsel::rollout::Auditor;
use counsel::source;
use serde_json::Value;

use super::super::check::inputs::{self, InputError};
use super::super::check::namespaces::KnownNamespaces;
use super::{AuditArgs, Notes};

/// Reads every file of `-f` and judges its objects.
pub fn audit(
    args: &AuditArgs,
    auditor: &mut Auditor<'_>,
    exceptions: &mut Exceptions,
    now: SystemTime,
    notes: &mut Notes,
) {
    let found = inputs::find(&args.files);
    notes.errors.extend(found.errors.iter().map(describe));
    let mut objects = Vec::new();
    for input in &found.inputs {
        let file = match inputs::read(input) {
            Ok(file) => file,
            Err(error) => {
                notes.errors.push(describe(&error));
                continue;
            }
        };
        let mut errors = Vec::new();
        let read = source::parse_each(&file.text, |document| {
            objects.extend(
                inputs::objects(&file.name, &document, &mut errors)
                    .into_iter()
                    .map(|object| object.value),
            );
        });
        if let Err(error) = read {
            errors.push(InputError {
                file: file.name.clone(),
                line: Some(error.line),
                column: Some(error.column),
                message: error.message,
            });
        }
        notes.errors.extend(errors.iter().map(describe));
    }
    let namespaces = KnownNamespaces::new(&[]);
    for object in &objects {
        namespaces.learn(object);
    }
    let settings = *exceptions.settings();
    for object in objects.iter().filter(|o| is_exception(o)) {
        // As the webhook does: an exception it would refuse is left out.
        match exceptions::check(object, None, auditor.reviewer(), &settings, now) {
            Ok(exception) => exceptions.insert(exception),
            Err(error) => notes.notes.push(format!("exception ignored: {error}")),
        }
    }
    for object in objects {
        if is_exception(&object) {
            continue;
        }
        let namespace = object
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        if !args.namespace.is_empty()
            && !namespace.is_some_and(|name| args.namespace.iter().any(|n| n == name))
        {
            continue;
        }
        super::judge(auditor, object, &namespaces, exceptions, now);
    }
}

/// Whether `object` is one of Counsel's exception objects.
pub fn is_exception(object: &Value) -> bool {
    object.get("apiVersion").and_then(Value::as_str) == Some(API_VERSION)
        && object
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|kind| kind == NAMESPACED_KIND || kind == CLUSTER_KIND)
}

fn describe(error: &InputError) -> String {
    match (error.line, error.column) {
        (Some(line), Some(column)) => {
            format!("{}:{line}:{column}: {}", error.file, error.message)
        }
        (Some(line), None) => format!("{}:{line}: {}", error.file, error.message),
        _ => format!("{}: {}", error.file, error.message),
    }
}
