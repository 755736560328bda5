//! One pod spec (of a Pod or of a workload's pod template), read once into
//! the parts the checks look at.

use counsel_policy::workload::PodSpecRef;
use counsel_policy::{Findings, Node, StringMap};

/// A pod spec with its metadata, containers and volumes.
#[derive(Debug)]
pub struct Pod<'a> {
    /// The pod spec (`/spec`, `/spec/template/spec`, ...).
    pub spec: Node<'a>,
    /// `spec.securityContext` (absent when missing or not an object).
    pub security_context: Node<'a>,
    /// The string annotations of the pod (or template) metadata, by key.
    pub annotations: StringMap<'a>,
    /// Every container: init, regular, then ephemeral.
    pub containers: Vec<Container<'a>>,
    /// Every volume in `spec.volumes`, in order.
    pub volumes: Vec<Node<'a>>,
    /// `spec.os.name` is exactly `windows`.
    pub windows: bool,
    /// `spec.hostUsers` is explicitly `false` (the pod runs in a user namespace).
    pub user_namespace: bool,
}

/// One container of any list.
#[derive(Debug)]
pub struct Container<'a> {
    /// The container's name (`""` when missing).
    pub name: &'a str,
    /// How messages name it: `container "app"`, `init container "setup"`,
    /// `ephemeral container "debugger"`, `container #2 (no name)`.
    pub label: String,
    /// The container object.
    pub node: Node<'a>,
    /// The container's `securityContext` (absent when missing or not an
    /// object).
    pub security_context: Node<'a>,
}

impl<'a> Pod<'a> {
    /// Reads the parts of `spec` the checks need; wrongly typed fields go to
    /// `out` as `invalid-field` violations.
    pub fn read(spec: &PodSpecRef<'a>, out: &mut Findings) -> Pod<'a> {
        let node = spec.node();
        let security_context = node.field("securityContext").as_object(out);
        let os = node.field("os").as_object(out);
        let windows = os.field("name").str(out) == Some("windows");
        let user_namespace = node.field("hostUsers").bool(out) == Some(false);
        let annotations = spec.metadata_node().field("annotations").string_map(out);
        let containers = spec
            .containers()
            .map(|c| {
                let node = c.node();
                Container {
                    name: c.name,
                    label: c.label(),
                    security_context: node.field("securityContext").as_object(out),
                    node,
                }
            })
            .collect();
        let volumes = node.field("volumes").objects(out);
        Pod {
            spec: node,
            security_context,
            annotations,
            containers,
            volumes,
            windows,
            user_namespace,
        }
    }
}
