//! The containers of one PodSpec.

use serde_json::Value;

use crate::field::{self, Object};
use crate::node::Node;
use crate::pointer;
use crate::verdict::{Violation, invalid_field};

/// Which of a PodSpec's three container lists a container is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContainerList {
    /// `initContainers`
    Init,
    /// `containers`
    Regular,
    /// `ephemeralContainers` (added by `kubectl debug`)
    Ephemeral,
}

impl ContainerList {
    /// The three lists in the order containers are visited.
    pub const ALL: [ContainerList; 3] = [
        ContainerList::Init,
        ContainerList::Regular,
        ContainerList::Ephemeral,
    ];

    /// The PodSpec field holding the list.
    pub fn field(self) -> &'static str {
        match self {
            ContainerList::Init => "initContainers",
            ContainerList::Regular => "containers",
            ContainerList::Ephemeral => "ephemeralContainers",
        }
    }

    /// How messages call a container of this list.
    pub fn noun(self) -> &'static str {
        match self {
            ContainerList::Init => "init container",
            ContainerList::Regular => "container",
            ContainerList::Ephemeral => "ephemeral container",
        }
    }
}

/// One container and where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerRef<'a> {
    /// The list it is in.
    pub list: ContainerList,
    /// Its index in that list.
    pub index: usize,
    /// Its `name`, `""` if missing (or not a string).
    pub name: &'a str,
    /// JSON Pointer of the container (`/spec/containers/0`).
    pub pointer: String,
    /// The container object.
    pub container: &'a Object,
    /// The container as a JSON value, for [`ContainerRef::node`].
    value: &'a Value,
}

impl<'a> ContainerRef<'a> {
    /// The container as a [`Node`], for typed reads.
    pub fn node(&self) -> Node<'a> {
        Node::new(Some(self.value), self.pointer.clone())
    }

    /// How messages name this container: `container "app"`,
    /// `init container "migrate"`, or `container #2 (no name)`.
    pub fn label(&self) -> String {
        let noun = self.list.noun();
        if self.name.is_empty() {
            format!("{noun} #{} (no name)", self.index)
        } else {
            format!("{noun} \"{}\"", self.name)
        }
    }

    /// The pointer to a field below this container
    /// (`pointer_to(&["securityContext", "privileged"])`).
    pub fn pointer_to(&self, tokens: &[&str]) -> String {
        tokens
            .iter()
            .fold(self.pointer.clone(), |at, token| pointer::push(&at, token))
    }
}

/// Iterator over a PodSpec's containers: init, regular, then ephemeral.
#[derive(Debug, Clone)]
pub struct Containers<'a> {
    spec: &'a Object,
    spec_pointer: String,
    list: usize,
    index: usize,
}

impl<'a> Containers<'a> {
    pub(super) fn new(spec: &'a Object, spec_pointer: String) -> Containers<'a> {
        Containers {
            spec,
            spec_pointer,
            list: 0,
            index: 0,
        }
    }
}

impl<'a> Iterator for Containers<'a> {
    type Item = ContainerRef<'a>;

    fn next(&mut self) -> Option<ContainerRef<'a>> {
        while let Some(&list) = ContainerList::ALL.get(self.list) {
            let items = self
                .spec
                .get(list.field())
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default();
            while let Some(item) = items.get(self.index) {
                let index = self.index;
                self.index += 1;
                if let Some(container) = item.as_object() {
                    let list_pointer = pointer::push(&self.spec_pointer, list.field());
                    return Some(ContainerRef {
                        list,
                        index,
                        name: container.get("name").and_then(Value::as_str).unwrap_or(""),
                        pointer: pointer::push(&list_pointer, &index.to_string()),
                        container,
                        value: item,
                    });
                }
            }
            self.list += 1;
            self.index = 0;
        }
        None
    }
}

/// `invalid-field` violations for the container lists of `spec`.
pub(super) fn problems(spec: &Object, spec_pointer: &str) -> Vec<Violation> {
    let mut problems = Vec::new();
    for list in ContainerList::ALL {
        let items = match field::array(spec, list.field(), spec_pointer) {
            Ok(items) => items.map(Vec::as_slice).unwrap_or_default(),
            Err(problem) => {
                problems.push(problem);
                continue;
            }
        };
        let list_pointer = pointer::push(spec_pointer, list.field());
        for (index, item) in items.iter().enumerate() {
            let item_pointer = pointer::push(&list_pointer, &index.to_string());
            match item.as_object() {
                Some(container) => {
                    if let Err(problem) = field::string(container, "name", &item_pointer) {
                        problems.push(problem);
                    }
                }
                None => problems.push(invalid_field(&item_pointer, item, "an object")),
            }
        }
    }
    problems
}
