//! A read-only view over the AdmissionRequest Counsel hands a policy.

use serde_json::Value;

use counsel_edit::Reads;

pub use counsel_contract::Operation;

/// A request Counsel sent that this SDK cannot read.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    /// Not JSON at all.
    #[error("the admission request is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// JSON, but not an object.
    #[error("the admission request must be a JSON object, found {0}")]
    NotAnObject(&'static str),
    /// A required field is missing or has the wrong type.
    #[error("the admission request's `{field}` must be {expected}")]
    Field {
        /// Dotted path of the field (`kind.kind`).
        field: &'static str,
        /// What was expected (`a string`).
        expected: &'static str,
    },
    /// `operation` is not one Kubernetes defines.
    #[error(
        "the admission request's `operation` is `{0}`; expected CREATE, UPDATE, DELETE or CONNECT"
    )]
    UnknownOperation(String),
}

/// A view over an `admission.k8s.io/v1` AdmissionRequest.
///
/// Only `operation` and `kind.kind` are required; everything else is read
/// leniently (a missing or mistyped optional field reads as absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    raw: Value,
    operation: Operation,
}

impl Request {
    /// Parses the request JSON Counsel passes to `validate`.
    pub fn from_json(json: &str) -> Result<Request, RequestError> {
        Request::from_value(serde_json::from_str(json)?)
    }

    /// Parses the request JSON keeping of `object` and `oldObject` only what
    /// `reads` names (see [`Reads`]).
    pub fn from_json_reading(json: &str, reads: &Reads) -> Result<Request, RequestError> {
        Request::from_value(reads.read_members(json, &["object", "oldObject"])?)
    }

    /// Wraps an already parsed request.
    pub fn from_value(raw: Value) -> Result<Request, RequestError> {
        if !raw.is_object() {
            return Err(RequestError::NotAnObject(type_name(&raw)));
        }
        let operation = match raw.get("operation").and_then(Value::as_str) {
            Some(name) => Operation::from_wire(name)
                .ok_or_else(|| RequestError::UnknownOperation(name.to_owned()))?,
            None => {
                return Err(RequestError::Field {
                    field: "operation",
                    expected: "a string",
                });
            }
        };
        if raw.pointer("/kind/kind").and_then(Value::as_str).is_none() {
            return Err(RequestError::Field {
                field: "kind.kind",
                expected: "a string",
            });
        }
        Ok(Request { raw, operation })
    }

    /// What the request does.
    pub fn operation(&self) -> Operation {
        self.operation
    }

    /// The kind of the object (`request.kind.kind`, e.g. `Deployment`).
    pub fn kind(&self) -> &str {
        self.str_at("/kind/kind").unwrap_or_default()
    }

    /// The object's API version (`apps/v1`, or `v1` for the core group).
    pub fn api_version(&self) -> String {
        let version = self.str_at("/kind/version").unwrap_or_default();
        match self.str_at("/kind/group") {
            Some(group) if !group.is_empty() => format!("{group}/{version}"),
            _ => version.to_owned(),
        }
    }

    /// The object's name: the request's `name`, else the object's
    /// `metadata.name` (`None` for a CREATE with only `generateName`).
    pub fn name(&self) -> Option<&str> {
        self.non_empty("/name")
            .or_else(|| self.object_str("/metadata/name"))
    }

    /// The namespace, `None` for cluster-scoped objects.
    pub fn namespace(&self) -> Option<&str> {
        self.non_empty("/namespace")
            .or_else(|| self.object_str("/metadata/namespace"))
    }

    /// The user making the request (`userInfo.username`).
    pub fn user(&self) -> Option<&str> {
        self.non_empty("/userInfo/username")
    }

    /// The user's groups (`userInfo.groups`); non-strings are skipped.
    pub fn groups(&self) -> Vec<&str> {
        self.raw
            .pointer("/userInfo/groups")
            .and_then(Value::as_array)
            .map(|groups| groups.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }

    /// The object as it will be stored; `None` on DELETE.
    pub fn object(&self) -> Option<&Value> {
        self.raw.get("object").filter(|object| !object.is_null())
    }

    /// The object as it was, on UPDATE and DELETE.
    pub fn old_object(&self) -> Option<&Value> {
        self.raw.get("oldObject").filter(|object| !object.is_null())
    }

    /// Whether the request is a dry run (nothing will be persisted).
    pub fn dry_run(&self) -> bool {
        self.raw
            .get("dryRun")
            .and_then(Value::as_bool)
            .unwrap_or(false)
    }

    /// The subresource (`status`, `scale`, `exec`, ...), if any.
    pub fn sub_resource(&self) -> Option<&str> {
        self.non_empty("/subResource")
    }

    /// The whole request as JSON.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    fn str_at(&self, pointer: &str) -> Option<&str> {
        self.raw.pointer(pointer).and_then(Value::as_str)
    }

    fn non_empty(&self, pointer: &str) -> Option<&str> {
        self.str_at(pointer).filter(|s| !s.is_empty())
    }

    fn object_str(&self, pointer: &str) -> Option<&str> {
        self.object()
            .or_else(|| self.old_object())
            .and_then(|object| object.pointer(pointer))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    }
}

/// `a string`, `an object`, ...: how messages name a JSON value's type.
pub(crate) fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests;
