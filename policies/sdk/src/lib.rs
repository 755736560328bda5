//! Write Counsel admission policies in plain Rust.
//!
//! A Counsel policy is a WebAssembly component implementing
//! `wit/counsel.wit`. With this crate it is an ordinary Rust type: implement
//! [`Policy`], call [`export_policy!`], and `policies/build.sh` turns the crate
//! into `policies/dist/<name>.wasm`. The same code compiles natively, so rules
//! are unit-tested with plain `cargo test` and the helpers in `testing`.
//!
//! What a developer sees is what the policy returns, so every
//! [`Violation`] says what is wrong (`message`), where (`path`, an RFC 6901
//! JSON Pointer, and the `found` value), how to fix it (`fixes`, edits a
//! machine can apply) and, through the rule in the catalog, why ops care and
//! where to read more.
//!
//! # A complete policy
//!
//! `policies/read-only-root/Cargo.toml`:
//!
//! ```toml
//! [package]
//! name = "read-only-root"
//! version.workspace = true
//! edition.workspace = true
//!
//! [lib]
//! crate-type = ["cdylib", "rlib"]
//!
//! [dependencies]
//! counsel-policy.workspace = true
//! serde = { workspace = true }
//! ```
//!
//! `policies/read-only-root/src/lib.rs`:
//!
//! ```
//! use counsel_policy::{
//!     export_policy, violation, workload, Findings, Metadata, Policy, Reads, Request, Rule,
//!     Severity, Verdict,
//! };
//! use serde::Deserialize;
//!
//! /// The rule, declared once: the catalog entry ops can reword in configuration.
//! /// Violations name it by this constant, so a misspelt rule does not compile.
//! const READ_ONLY_ROOT: Rule = Rule::new(
//!     "read-only-root-filesystem",
//!     "Containers must mount their root filesystem read-only",
//!     "An attacker who gets into a container with a writable root filesystem can \
//!      replace its binaries and keep a foothold that survives until the pod is deleted.",
//! )
//! .docs("https://kubernetes.io/docs/tasks/configure-pod-container/security-context/")
//! .severity(Severity::Medium);
//!
//! /// Settings ops may give in Counsel's configuration.
//! #[derive(Debug, Default, Deserialize)]
//! #[serde(default, rename_all = "camelCase", deny_unknown_fields)]
//! pub struct Settings {
//!     /// Containers (by name) allowed to write to their root filesystem.
//!     exempt_containers: Vec<String>,
//! }
//!
//! pub struct ReadOnlyRoot;
//!
//! impl Policy for ReadOnlyRoot {
//!     type Settings = Settings;
//!
//!     fn metadata() -> Metadata {
//!         Metadata {
//!             name: "read-only-root".into(),
//!             version: env!("CARGO_PKG_VERSION").into(),
//!             description: "Containers mount their root filesystem read-only.".into(),
//!             kinds: workload::kinds(),
//!             rules: vec![READ_ONLY_ROOT],
//!         }
//!     }
//!
//!     fn validate_settings(settings: &Settings) -> Result<(), String> {
//!         match settings.exempt_containers.iter().position(|name| name.is_empty()) {
//!             Some(i) => Err(format!("setting `exemptContainers[{i}]` is empty; give a container name")),
//!             None => Ok(()),
//!         }
//!     }
//!
//!     // Optional: what `validate` reads of each container (the SDK adds
//!     // what it needs to find pod specs and containers). The rest of the
//!     // object is skipped, not built: evaluation gets markedly faster.
//!     fn reads() -> Reads {
//!         workload::reads(&[], &["securityContext"])
//!     }
//!
//!     fn validate(request: &Request, settings: &Settings) -> Verdict {
//!         let Some(object) = request.object() else {
//!             return Verdict::default(); // DELETE: nothing to check
//!         };
//!         // Every violation goes to `out`, and so does every field of the
//!         // wrong type a read meets (as `invalid-field`, once per field).
//!         let mut out = Findings::default();
//!         let found = workload::pod_specs(object);
//!         out.extend(found.problems);
//!         for spec in &found.specs {
//!             out.extend(spec.container_problems());
//!             for c in spec.containers() {
//!                 if settings.exempt_containers.iter().any(|n| n == c.name) {
//!                     continue;
//!                 }
//!                 let context = c.node().field("securityContext").as_object(&mut out);
//!                 let field = context.field("readOnlyRootFilesystem");
//!                 if field.bool(&mut out) != Some(true) {
//!                     let message = format!("{} can write to its root filesystem", c.label());
//!                     out.push(
//!                         violation(&READ_ONLY_ROOT)
//!                             .at(&field) // its pointer, and the value found there
//!                             .message(message)
//!                             .fix_to(true)
//!                             .hint("Mount an emptyDir where the program must write (e.g. /tmp)."),
//!                     );
//!                 }
//!             }
//!         }
//!         out.into()
//!     }
//! }
//!
//! export_policy!(ReadOnlyRoot);
//!
//! // The unit tests, in the same file under #[cfg(test)]:
//! use counsel_policy::testing::{apply_fixes, check, check_object, rule_ids};
//!
//! let manifest = r#"
//! apiVersion: apps/v1
//! kind: Deployment
//! metadata: {name: web, namespace: shop}
//! spec:
//!   template:
//!     spec:
//!       containers:
//!         - name: app
//!           image: registry.example.com/web:1.4
//!         - name: cache
//!           image: redis:7
//!           securityContext: {readOnlyRootFilesystem: true}
//! "#;
//! let verdict = check::<ReadOnlyRoot>(manifest, "{}");
//! assert_eq!(rule_ids(&verdict), ["read-only-root-filesystem"]);
//! let v = &verdict.violations[0];
//! assert_eq!(v.path, "/spec/template/spec/containers/0/securityContext/readOnlyRootFilesystem");
//! assert_eq!(v.message, r#"container "app" can write to its root filesystem"#);
//! assert_eq!(v.found, None);
//!
//! // Applying the fixes makes the object pass.
//! let fixed = apply_fixes(&counsel_policy::testing::yaml(manifest), &verdict);
//! assert!(check_object::<ReadOnlyRoot>(&fixed, "{}").violations.is_empty());
//!
//! // A field of the wrong type is reported where it is, never guessed at.
//! let bad = manifest.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: yes please");
//! let verdict = check::<ReadOnlyRoot>(&bad, "{}");
//! assert_eq!(rule_ids(&verdict), ["read-only-root-filesystem", "invalid-field", "read-only-root-filesystem"]);
//! assert_eq!(
//!     verdict.violations[1].message,
//!     "`/spec/template/spec/containers/1/securityContext/readOnlyRootFilesystem` must be a boolean, but it is a string",
//! );
//!
//! // Settings are honoured, and bad ones are refused with the setting's name.
//! assert!(check::<ReadOnlyRoot>(manifest, r#"{"exemptContainers": ["app"]}"#).passed());
//! assert_eq!(
//!     counsel_policy::testing::settings_error::<ReadOnlyRoot>(r#"{"exemptContainers": [""]}"#),
//!     "setting `exemptContainers[0]` is empty; give a container name",
//! );
//! ```
//!
//! # Reading the object: [`Node`] and [`Findings`]
//!
//! A [`Node`] is a field of the object (or its absence) with its JSON
//! Pointer: `field("securityContext")`, `index(0)`, then a typed read:
//! `bool`, `str`, `int`, [`quantity`](Node::quantity), `object`, `items`,
//! `objects`, `strings`, [`string_map`](Node::string_map) (and
//! [`labels`](Node::labels) / [`annotations`](Node::annotations) of an
//! object). A read gives `None` for a missing or `null` field, and for a
//! field of another type, which it records in the [`Findings`] as one
//! `invalid-field` violation: no wrongly typed field is dropped silently,
//! and no rule has to think about types. `violation(&RULE).at(&node)` points
//! at the node and records the value found there (nothing, when the field is
//! missing); `fix_to(value)` sets that same field. Kubernetes quantities
//! (`500m`, `1.5Gi`, `2e3`) are [`Quantity`]s, parsed as the API server
//! parses them and compared exactly.
//!
//! The whole `privileged` rule of the bundled `pod-security` policy (its
//! `Pod` reads each container's `securityContext` once, as below):
//!
//! ```
//! # use counsel_policy::{violation, workload::PodSpecRef, Findings, Rule};
//! # const PRIVILEGED: Rule = Rule::new("privileged", "No privileged containers", "...");
//! # const PRIVILEGED_HINT: &str = "Grant the one capability it needs instead.";
//! pub fn privileged(pod: &PodSpecRef<'_>, out: &mut Findings) {
//!     for c in pod.containers() {
//!         let field = c.node().field("securityContext").as_object(out).field("privileged");
//!         if field.bool(out) == Some(true) {
//!             let message = format!("{} runs privileged", c.label());
//!             let v = violation(&PRIVILEGED).at(&field).message(message);
//!             out.push(v.fix_to(false).hint(PRIVILEGED_HINT));
//!         }
//!     }
//! }
//! # let object = counsel_policy::json!({"kind": "Pod", "spec": {"containers": [
//! #     {"name": "app", "securityContext": {"privileged": true}}]}});
//! # let mut out = Findings::default();
//! # privileged(&counsel_policy::workload::pod_specs(&object).specs[0], &mut out);
//! # let v = &out.violations()[0];
//! # assert_eq!(v.path, "/spec/containers/0/securityContext/privileged");
//! # assert_eq!(v.found, Some(counsel_policy::json!(true)));
//! # assert_eq!(v.message, r#"container "app" runs privileged"#);
//! ```
//!
//! # What Counsel adds around a violation's message
//!
//! Write the message as one short line about the object, naming the thing
//! at fault (`container "app" runs privileged`) but not the object itself:
//! Counsel adds that, and the rest of the explanation, around it.
//!
//! - A denial (`kubectl apply` refused) starts with the object and a count
//!   (`Deployment shop/web violates 3 rules:`), then for each violation
//!   `[policy/rule] <message>` and lines for the field and the value found,
//!   why (the rule's `why`), the fix, the hint, docs and whom to ask.
//! - A warning (`mode: warn`; kubectl prints `Warning: ...`) is one line:
//!   `[policy/rule] Kind ns/name: <message> (fix: ...)`, the hint standing
//!   where there is no fix. The object is named because kubectl prints
//!   warnings before its own line about the object.
//!
//! Kubernetes asks webhooks to keep a warning within 120 characters where
//! possible, and the API server cuts warnings to 256 characters (once a
//! request's warnings pass 4096 characters) and drops any with a control
//! character. Counsel keeps each warning to one line of at most 256
//! characters, shortening the message (after a whole word) before the
//! label, the object and the fix. So keep messages under about 80
//! characters, on one line: with `[policy/rule] Kind ns/name: ` before it
//! the warning then stays near the advised 120, and nothing you wrote is
//! cut.
//!
//! # Building
//!
//! `policies/build.sh` builds every policy crate in the `policies/`
//! workspace for `wasm32-unknown-unknown`, turns each core module into a
//! component, and writes `policies/dist/<name>.wasm` with a record of the
//! hash of its inputs beside it.

// The generated bindings name this crate by its path, also from inside it.
extern crate self as counsel_policy;

// A global allocator is unsafe by nature; alloc.rs says why this one is sound.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code)]
mod alloc;
pub mod catalog;
pub mod field;
pub mod findings;
#[doc(hidden)]
pub mod guest;
pub mod log;
pub mod node;
pub mod quantity;
pub mod request;
pub mod settings;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;
pub mod verdict;
pub mod workload;

pub use catalog::{FixSafety, INVALID_FIELD, Metadata, Rule, Severity};
pub use counsel_edit::{Edit, Reads, pointer};
pub use findings::Findings;
pub use node::{Node, StringMap};
pub use quantity::{Quantity, QuantityError};
pub use request::{Operation, Request, RequestError};
pub use serde_json::{self, Value, json};
pub use settings::{NoSettings, SettingsError};
pub use verdict::{
    MAX_VIOLATIONS, MAX_VIOLATIONS_PER_RULE, RuleId, Verdict, Violation, invalid_field, violation,
};

/// A Counsel policy.
///
/// Implement it on a plain (usually empty) type and export that type with
/// [`export_policy!`]. See the crate docs for a complete example.
pub trait Policy {
    /// The settings ops may configure, read from JSON. `{}` (no settings)
    /// gives `Default::default()`; use [`NoSettings`] for a policy without
    /// settings.
    type Settings: serde::de::DeserializeOwned + Default;

    /// Name, version, default kinds and rule catalog. The built-in
    /// [`INVALID_FIELD`] rule is added by the SDK.
    fn metadata() -> Metadata;

    /// Checks the parsed settings beyond their types; the error names the
    /// bad setting and says what is allowed.
    fn validate_settings(settings: &Self::Settings) -> Result<(), String> {
        let _ = settings;
        Ok(())
    }

    /// The parts of the object `validate` reads (default: all of it). Naming
    /// them makes evaluation faster, since the rest is never built; a field
    /// left out reads as absent. The test helpers in `testing` check every
    /// verdict against one made from the whole object.
    fn reads() -> Reads {
        Reads::everything()
    }

    /// Validates one request. Report every broken rule, not only the first.
    fn validate(request: &Request, settings: &Self::Settings) -> Verdict;
}

/// Exports a [`Policy`] type as the Counsel policy component.
///
/// On wasm32 this emits the component's exports (`metadata`,
/// `validate-settings`, `validate`). Natively it only checks that the type
/// implements [`Policy`], so the crate still builds for unit tests. Use it
/// once, in the policy crate's `lib.rs`.
#[macro_export]
macro_rules! export_policy {
    ($policy:ty) => {
        const _: fn() = $crate::guest::assert_policy::<$policy>;

        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct CounselPolicyExports;

            impl $crate::guest::Guest for CounselPolicyExports {
                fn metadata() -> $crate::guest::Metadata {
                    $crate::guest::metadata::<$policy>()
                }

                fn validate_settings(
                    settings: ::std::string::String,
                ) -> ::std::result::Result<(), ::std::string::String> {
                    $crate::guest::validate_settings::<$policy>(&settings)
                }

                fn validate(
                    request: ::std::string::String,
                    settings: ::std::string::String,
                ) -> $crate::guest::Verdict {
                    $crate::guest::validate::<$policy>(&request, &settings)
                }
            }

    $crate::guest::__export_policy_world!(CounselPolicyExports with_types_in $crate::guest);
        };
    };
}
