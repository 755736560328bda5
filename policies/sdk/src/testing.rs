//! Helpers for a policy's unit tests (native builds only).
//!
//! They turn YAML manifests into admission requests, run a policy the way
//! Counsel does (settings parsed from JSON, request from JSON), and apply the
//! fixes a verdict proposes. They panic with a clear message on bad test
//! input, as assertions do. [`check`] also asserts that the policy keeps the
//! contract: every violation names a rule from its catalog, has a message, and
//! uses valid JSON Pointers; and that its verdict on the object as
//! [`Policy::reads`] keeps it is the verdict on the whole object.

use serde_json::{Value, json};

use crate::request::Request;
use crate::verdict::Verdict;
use crate::{Metadata, Policy, guest, pointer, settings};
use counsel_edit::Reads;

/// Parses one YAML document (a manifest) into JSON.
///
/// # Panics
/// When the text is not YAML.
pub fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text)
        .unwrap_or_else(|err| panic!("the test manifest is not valid YAML: {err}"))
}

/// A CREATE request for the object in `yaml`; kind, name and namespace are
/// taken from the object.
pub fn request_from_yaml(yaml: &str) -> Request {
    request("CREATE", Some(self::yaml(yaml)), None)
}

/// An UPDATE request from `old` to `new`.
pub fn update_request_from_yaml(old: &str, new: &str) -> Request {
    request("UPDATE", Some(yaml(new)), Some(yaml(old)))
}

/// A DELETE request for the object in `old` (`object` is absent).
pub fn delete_request_from_yaml(old: &str) -> Request {
    request("DELETE", None, Some(yaml(old)))
}

/// A CREATE request for an object given as JSON.
pub fn request_from_object(object: &Value) -> Request {
    request("CREATE", Some(object.clone()), None)
}

/// Builds an `admission.k8s.io/v1` AdmissionRequest the way the API server
/// fills one in for a user in `system:authenticated`.
///
/// # Panics
/// When neither object has a string `kind`.
pub fn request(operation: &str, object: Option<Value>, old_object: Option<Value>) -> Request {
    let subject = object
        .as_ref()
        .or(old_object.as_ref())
        .cloned()
        .unwrap_or(Value::Null);
    let text = |pointer: &str| subject.pointer(pointer).and_then(Value::as_str);
    let kind = text("/kind")
        .unwrap_or_else(|| panic!("the test object has no string `kind`: {subject}"))
        .to_owned();
    let (group, version) = match text("/apiVersion").unwrap_or("v1").split_once('/') {
        Some((group, version)) => (group.to_owned(), version.to_owned()),
        None => (
            String::new(),
            text("/apiVersion").unwrap_or("v1").to_owned(),
        ),
    };
    let gvk = json!({"group": group, "version": version, "kind": kind});
    let resource = json!({"group": group, "version": version, "resource": counsel_contract::resource_name(&kind)});
    let raw = json!({
        "uid": "00000000-0000-0000-0000-000000000000",
        "kind": gvk,
        "resource": resource,
        "requestKind": gvk,
        "requestResource": resource,
        "name": text("/metadata/name").unwrap_or(""),
        "namespace": text("/metadata/namespace").unwrap_or(""),
        "operation": operation,
        "userInfo": {"username": "developer@example.com", "groups": ["system:authenticated"]},
        "object": object,
        "oldObject": old_object,
        "dryRun": false,
    });
    Request::from_value(raw).unwrap_or_else(|err| panic!("test request rejected: {err}"))
}

/// Runs policy `P` on a CREATE of the manifest in `yaml` with `settings`
/// (JSON, `"{}"` for none), as Counsel would.
///
/// # Panics
/// When the settings are refused, or the policy breaks the contract (see the
/// module docs).
pub fn check<P: Policy>(yaml: &str, settings: &str) -> Verdict {
    check_request::<P>(&request_from_yaml(yaml), settings)
}

/// Like [`check`], for an object given as JSON (e.g. after [`apply_fixes`]).
pub fn check_object<P: Policy>(object: &Value, settings: &str) -> Verdict {
    check_request::<P>(&request_from_object(object), settings)
}

/// Like [`check`], for any request.
pub fn check_request<P: Policy>(request: &Request, settings: &str) -> Verdict {
    if let Err(err) = guest::validate_settings::<P>(settings) {
        panic!("the policy refused the test settings {settings}: {err}");
    }
    let json = request.raw().to_string();
    let verdict = guest::run::<P>(&json, settings);
    assert_keeps_contract(&P::metadata().with_builtin_rules(), &verdict);
    let reads = P::reads();
    if !reads.is_everything() {
        let whole = guest::run_reading::<P>(&json, settings, &Reads::everything());
        assert!(
            verdict == whole,
            "the policy reads more than `Policy::reads` names: its verdict on the object as \
             `reads` keeps it differs from the one on the whole object\n\
             as read: {verdict:#?}\nwhole: {whole:#?}"
        );
    }
    verdict
}

/// The error the policy gives for `settings`.
///
/// # Panics
/// When the policy accepts them.
pub fn settings_error<P: Policy>(settings: &str) -> String {
    match guest::validate_settings::<P>(settings) {
        Ok(()) => panic!("the policy accepted the settings {settings}"),
        Err(err) => err,
    }
}

/// A copy of `object` with the fixes of every violation applied, in order.
///
/// # Panics
/// When a fix cannot be applied (the error names its pointer).
pub fn apply_fixes(object: &Value, verdict: &Verdict) -> Value {
    let mut fixed = object.clone();
    for v in &verdict.violations {
        if let Err(err) = counsel_edit::apply(&mut fixed, &v.fixes) {
            panic!(
                "the fixes of `{}` at {} do not apply: {err}",
                v.rule, v.path
            );
        }
    }
    fixed
}

/// The rule ids of the violations, in order.
pub fn rule_ids(verdict: &Verdict) -> Vec<&str> {
    verdict.violations.iter().map(|v| v.rule.as_str()).collect()
}

/// Asserts that a policy's catalog is well formed: a kebab-case name, a
/// version, and rules with unique kebab-case ids, a title and a `why`.
///
/// # Panics
/// On the first problem, naming it.
pub fn assert_catalog<P: Policy>() {
    let metadata = P::metadata();
    assert!(
        is_kebab(&metadata.name),
        "policy name `{}` is not kebab-case",
        metadata.name
    );
    assert!(
        !metadata.version.is_empty(),
        "policy `{}` has no version",
        metadata.name
    );
    assert!(
        !metadata.description.is_empty(),
        "policy `{}` has no description",
        metadata.name
    );
    for (i, rule) in metadata.rules.iter().enumerate() {
        assert!(is_kebab(rule.id), "rule id `{}` is not kebab-case", rule.id);
        assert!(!rule.title.is_empty(), "rule `{}` has no title", rule.id);
        assert!(!rule.why.is_empty(), "rule `{}` has no why", rule.id);
        assert!(
            metadata.rules[..i].iter().all(|other| other.id != rule.id),
            "rule id `{}` appears twice",
            rule.id
        );
    }
}

fn is_kebab(id: &str) -> bool {
    !id.is_empty()
        && !id.starts_with('-')
        && !id.ends_with('-')
        && !id.contains("--")
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn assert_keeps_contract(metadata: &Metadata, verdict: &Verdict) {
    for v in &verdict.violations {
        assert!(
            metadata.rule(&v.rule).is_some(),
            "the policy reported rule `{}`, which its catalog does not list",
            v.rule
        );
        assert!(
            !v.message.is_empty(),
            "a `{}` violation has no message",
            v.rule
        );
        if let Err(err) = pointer::tokens(&v.path) {
            panic!("a `{}` violation has a bad path: {err}", v.rule);
        }
        for fix in &v.fixes {
            if let Err(err) = pointer::tokens(fix.path()) {
                panic!("a `{}` violation has a bad fix: {err}", v.rule);
            }
        }
    }
}

/// Parses settings the way Counsel passes them, for tests of settings types.
pub fn settings<P: Policy>(json: &str) -> P::Settings {
    settings::parse::<P::Settings>(json)
        .unwrap_or_else(|err| panic!("the test settings are refused: {err}"))
}

#[cfg(test)]
mod tests;
