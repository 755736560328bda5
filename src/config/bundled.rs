//! The policies built into the binary, so that Counsel works with no files
//! at all. Each is the component committed in `policies/dist/`, which the
//! test command rebuilds from source and checks.

/// Bundled policies by name, as `builtin:NAME` refers to them.
pub const BUNDLED: &[(&str, &[u8])] = &[
    (
        "pod-security",
        include_bytes!("../../policies/dist/pod-security.wasm"),
    ),
    (
        "workload-hygiene",
        include_bytes!("../../policies/dist/workload-hygiene.wasm"),
    ),
    (
        "container-security",
        include_bytes!("../../policies/dist/container-security.wasm"),
    ),
    // The crate is `cel-rules`: `cel` is the name of the interpreter it uses.
    ("cel", include_bytes!("../../policies/dist/cel-rules.wasm")),
];

/// The component of a bundled policy.
pub fn bundled(name: &str) -> Option<&'static [u8]> {
    BUNDLED
        .iter()
        .find(|(bundled, _)| *bundled == name)
        .map(|(_, bytes)| *bytes)
}
