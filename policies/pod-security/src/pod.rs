//! One pod spec (of a Pod or of a workload's pod template), read once into
//! the parts the checks look at.

use counsel_policy::workload::PodSpecRef;
use counsel_policy::{Value, invalid_field, pointer};

use crate::fields::{Findings, Obj};

/// A pod spec with its metadata, containers and volumes.
#[derive(Debug)]
pub struct Pod<'a> {
    /// The pod spec (`/spec`, `/spec/template/spec`, ...).
    pub spec: Obj<'a>,
    /// `spec.securityContext`, when set.
    pub security_context: Option<Obj<'a>>,
    /// The string annotations of the pod (or template) metadata, by key.
    pub annotations: Vec<Annotation<'a>>,
    /// Every container: init, regular, then ephemeral.
    pub containers: Vec<Container<'a>>,
    /// Every volume in `spec.volumes`, in order.
    pub volumes: Vec<Obj<'a>>,
    /// `spec.os.name` is exactly `windows`.
    pub windows: bool,
    /// `spec.hostUsers` is explicitly `false` (the pod runs in a user namespace).
    pub user_namespace: bool,
}

/// One annotation with a string value.
#[derive(Debug)]
pub struct Annotation<'a> {
    /// The annotation's key.
    pub key: &'a str,
    /// The annotation's value.
    pub value: &'a str,
    /// Pointer to the annotation.
    pub ptr: String,
}

/// One container of any list.
#[derive(Debug)]
pub struct Container<'a> {
    /// The container's name (`""` when missing).
    pub name: &'a str,
    /// How messages name it (`init container "setup"`).
    pub label: String,
    /// The container object.
    pub obj: Obj<'a>,
    /// The container's `securityContext`, when set.
    pub security_context: Option<Obj<'a>>,
}

impl<'a> Pod<'a> {
    /// Reads the parts of `spec` the checks need; wrongly typed fields go to
    /// `out` as `invalid-field` violations.
    pub fn read(spec: &PodSpecRef<'a>, out: &mut Findings) -> Pod<'a> {
        let obj = Obj::new(spec.spec, spec.pointer.clone());
        let security_context = obj.object("securityContext", out);
        let windows = obj
            .object("os", out)
            .and_then(|os| os.str("name", out))
            .is_some_and(|name| name == "windows");
        let user_namespace = obj.bool("hostUsers", out) == Some(false);
        let annotations = match spec.metadata {
            Some(metadata) => {
                let metadata = Obj::new(metadata, spec.metadata_pointer.clone());
                read_annotations(&metadata, out)
            }
            None => Vec::new(),
        };
        let containers = spec
            .containers()
            .map(|c| {
                let obj = Obj::new(c.container, c.pointer.clone());
                Container {
                    name: c.name,
                    label: c.label(),
                    security_context: obj.object("securityContext", out),
                    obj,
                }
            })
            .collect();
        let volumes = obj
            .objects("volumes", out)
            .into_iter()
            .map(|(_, volume)| volume)
            .collect();
        Pod {
            spec: obj,
            security_context,
            annotations,
            containers,
            volumes,
            windows,
            user_namespace,
        }
    }

    /// Pointer to `spec.securityContext.<path...>`, whether or not it exists.
    pub fn security_ptr(&self, path: &[&str]) -> String {
        path.iter()
            .fold(self.spec.at("securityContext"), |ptr, token| {
                pointer::push(&ptr, token)
            })
    }
}

impl Container<'_> {
    /// `container "app"`, `init container "setup"`, `ephemeral container
    /// "debugger"`, `container #2 (no name)`.
    pub fn describe(&self) -> String {
        self.label.clone()
    }

    /// Pointer to `securityContext.<path...>` of this container, whether or
    /// not it exists.
    pub fn security_ptr(&self, path: &[&str]) -> String {
        path.iter()
            .fold(self.obj.at("securityContext"), |ptr, token| {
                pointer::push(&ptr, token)
            })
    }
}

/// Reads `metadata.annotations`, sorted by key.
fn read_annotations<'a>(metadata: &Obj<'a>, out: &mut Findings) -> Vec<Annotation<'a>> {
    let Some(annotations) = metadata.object("annotations", out) else {
        return Vec::new();
    };
    let mut read: Vec<Annotation<'a>> = Vec::new();
    for (key, value) in annotations.map {
        let ptr = annotations.at(key);
        // Kubernetes decodes `key: null` in a string map as the empty string.
        let value = match value {
            Value::String(value) => value.as_str(),
            Value::Null => "",
            other => {
                out.invalid(invalid_field(&ptr, other, "a string"));
                continue;
            }
        };
        read.push(Annotation {
            key: key.as_str(),
            value,
            ptr,
        });
    }
    read.sort_by(|a, b| a.key.cmp(b.key));
    read
}
