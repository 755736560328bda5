//! One exception object (JSON, as read from a file or the cluster) to a
//! checked [`Exception`], or every problem with it, each at its field.

use std::time::{Duration, SystemTime};

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{API_VERSION, CLUSTER_KIND, Catalog, ExceptionError, NAMESPACED_KIND, Problem};
use crate::config::{ExceptionSettings, LabelSelector};

/// One exception, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Exception {
    /// `metadata.name`.
    pub name: String,
    /// The namespace it applies in (a `CounselException`); `None` for a
    /// `ClusterCounselException`.
    pub namespace: Option<String>,
    /// The policy's configured name.
    pub policy: String,
    /// The rules of that policy it lets through.
    pub rules: Vec<String>,
    /// The kinds of object it covers (`*`: every kind).
    pub kinds: Vec<String>,
    /// The objects' names, or prefixes ending in `*`; empty: every name.
    pub names: Vec<String>,
    /// Labels the objects must carry.
    pub selector: LabelSelector,
    /// Only findings in these containers; empty: anywhere in the object.
    pub containers: Vec<String>,
    /// Why it was granted.
    pub reason: String,
    /// Who answers for it.
    pub owner: String,
    /// When it stops applying.
    pub expires: SystemTime,
    /// `expires` in RFC 3339 (UTC).
    pub expires_text: String,
    /// A link to the request or discussion.
    pub ticket: Option<String>,
    /// For a cluster-wide exception: namespace names or prefixes (`*`).
    pub namespaces: Vec<String>,
    /// For a cluster-wide exception: labels the namespace must carry.
    pub namespace_selector: Option<LabelSelector>,
}

impl Exception {
    /// `CounselException shop/legacy-root`, `ClusterCounselException legacy-root`.
    pub fn describe(&self) -> String {
        match &self.namespace {
            Some(namespace) => format!("{NAMESPACED_KIND} {namespace}/{}", self.name),
            None => format!("{CLUSTER_KIND} {}", self.name),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawObject {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: RawMetadata,
    spec: Option<RawSpec>,
}

#[derive(Deserialize, Default)]
struct RawMetadata {
    name: Option<String>,
    namespace: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    policy: Option<String>,
    #[serde(default)]
    rules: Vec<String>,
    objects: Option<RawObjects>,
    #[serde(default)]
    containers: Vec<String>,
    reason: Option<String>,
    owner: Option<String>,
    expires: Option<String>,
    ticket: Option<String>,
    #[serde(default)]
    namespaces: Option<Vec<String>>,
    #[serde(default)]
    namespace_selector: Option<LabelSelector>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawObjects {
    #[serde(default)]
    kinds: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    selector: LabelSelector,
}

/// Checks one exception object. `default_namespace` is the namespace of a
/// `CounselException` that does not name one (the request's, or `counsel
/// check --namespace`); `now` is when its lifetime is measured from.
pub fn check(
    object: &Value,
    default_namespace: Option<&str>,
    catalog: &dyn Catalog,
    settings: &ExceptionSettings,
    now: SystemTime,
) -> Result<Exception, ExceptionError> {
    let name = |value: &Value| {
        let text = |p: &str| value.pointer(p).and_then(Value::as_str).map(str::to_owned);
        let kind = text("/kind").unwrap_or_else(|| "exception".to_owned());
        match (text("/metadata/namespace"), text("/metadata/name")) {
            (Some(ns), Some(name)) if kind == NAMESPACED_KIND => format!("{kind} {ns}/{name}"),
            (_, Some(name)) => format!("{kind} {name}"),
            (_, None) => format!("{kind} (unnamed)"),
        }
    };
    let fail = |problems: Vec<Problem>| ExceptionError {
        object: name(object),
        problems,
    };
    let raw: RawObject = serde_path_to_error::deserialize(object).map_err(|error| {
        let mut pointer = String::new();
        for segment in error.path().iter() {
            match segment {
                serde_path_to_error::Segment::Seq { index } => {
                    pointer.push_str(&format!("/{index}"))
                }
                serde_path_to_error::Segment::Map { key } => {
                    pointer = counsel_edit::pointer::push(&pointer, key)
                }
                _ => {}
            }
        }
        fail(vec![Problem {
            pointer,
            message: error.inner().to_string(),
        }])
    })?;
    let mut problems = Vec::new();
    let mut problem = |pointer: &str, message: String| {
        problems.push(Problem {
            pointer: pointer.to_owned(),
            message,
        })
    };
    if raw.api_version.as_deref() != Some(API_VERSION) {
        problem(
            "/apiVersion",
            format!(
                "must be {API_VERSION:?}, not {:?}",
                raw.api_version.unwrap_or_default()
            ),
        );
    }
    let cluster = match raw.kind.as_deref() {
        Some(NAMESPACED_KIND) => false,
        Some(CLUSTER_KIND) => true,
        other => {
            problem(
                "/kind",
                format!(
                    "must be {NAMESPACED_KIND} or {CLUSTER_KIND}, not {:?}",
                    other.unwrap_or_default()
                ),
            );
            false
        }
    };
    let name = raw.metadata.name.filter(|n| !n.is_empty());
    if name.is_none() {
        problem(
            "/metadata/name",
            "missing; an exception needs a name".into(),
        );
    }
    let namespace = if cluster {
        None
    } else {
        let namespace = raw
            .metadata
            .namespace
            .or_else(|| default_namespace.map(str::to_owned));
        if namespace.is_none() {
            problem(
                "/metadata/namespace",
                format!(
                    "missing; a {NAMESPACED_KIND} applies in its namespace, so it must name one"
                ),
            );
        }
        namespace
    };
    let Some(spec) = raw.spec else {
        problem("/spec", "missing".into());
        return Err(fail(problems));
    };
    let required =
        |value: Option<String>, field: &str, what: &str, problem: &mut dyn FnMut(&str, String)| {
            match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
                Some(value) => value,
                None => {
                    problem(&format!("/spec/{field}"), format!("missing; {what}"));
                    String::new()
                }
            }
        };
    let reason = required(
        spec.reason,
        "reason",
        "an exception must say why it is granted",
        &mut problem,
    );
    let owner = required(
        spec.owner,
        "owner",
        "an exception must name who answers for it (a team, a person)",
        &mut problem,
    );
    let policy = required(
        spec.policy,
        "policy",
        "name the policy as counsel.yaml does",
        &mut problem,
    );
    let expires_text = required(
        spec.expires,
        "expires",
        "an exception must expire (an RFC 3339 time, e.g. 2026-12-31T00:00:00Z)",
        &mut problem,
    );
    let mut expires = SystemTime::UNIX_EPOCH;
    let mut expires_utc = String::new();
    if !expires_text.is_empty() {
        match OffsetDateTime::parse(&expires_text, &Rfc3339) {
            Ok(time) => {
                expires = SystemTime::from(time);
                expires_utc = rfc3339(expires);
                let lifetime = expires.duration_since(now).unwrap_or_default();
                if lifetime > settings.max_lifetime {
                    problem(
                        "/spec/expires",
                        format!(
                            "{expires_text} is {} from now, beyond the longest lifetime ops allow ({}, exceptions.maxLifetime in counsel.yaml); expire it by {}",
                            days(lifetime),
                            days(settings.max_lifetime),
                            now.checked_add(settings.max_lifetime)
                                .map(rfc3339)
                                .unwrap_or_default()
                        ),
                    );
                }
            }
            Err(_) => problem(
                "/spec/expires",
                format!(
                    "{expires_text:?} is not an RFC 3339 time; write e.g. 2026-12-31T00:00:00Z"
                ),
            ),
        }
    }
    if spec.rules.is_empty() {
        problem(
            "/spec/rules",
            "missing; name the rules of the policy that are excepted".into(),
        );
    }
    if !policy.is_empty() {
        match catalog.rules(&policy) {
            None => problem(
                "/spec/policy",
                format!(
                    "no policy named {policy:?} is configured; the policies are {}",
                    catalog.policies().join(", ")
                ),
            ),
            Some(known) => {
                for (index, rule) in spec.rules.iter().enumerate() {
                    if !known.iter().any(|k| k == rule) {
                        problem(
                            &format!("/spec/rules/{index}"),
                            format!(
                                "the policy {policy:?} has no rule {rule:?}; its rules are {}",
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
        }
    }
    let objects = spec.objects;
    let kinds = objects
        .as_ref()
        .map(|o| o.kinds.clone())
        .unwrap_or_default();
    if kinds.is_empty() {
        problem(
            "/spec/objects/kinds",
            "missing; name the kinds of object it covers (e.g. [Deployment])".into(),
        );
    }
    if !cluster && (spec.namespaces.is_some() || spec.namespace_selector.is_some()) {
        let field = if spec.namespaces.is_some() {
            "namespaces"
        } else {
            "namespaceSelector"
        };
        problem(
            &format!("/spec/{field}"),
            format!(
                "a {NAMESPACED_KIND} applies in its own namespace only; use a {CLUSTER_KIND} for others"
            ),
        );
    }
    let (names, selector) = objects.map(|o| (o.names, o.selector)).unwrap_or_default();
    if !problems.is_empty() {
        return Err(fail(problems));
    }
    Ok(Exception {
        name: name.unwrap_or_default(),
        namespace,
        policy,
        rules: spec.rules,
        kinds,
        names,
        selector,
        containers: spec.containers,
        reason,
        owner,
        expires,
        expires_text: expires_utc,
        ticket: spec.ticket.filter(|t| !t.is_empty()),
        namespaces: spec.namespaces.unwrap_or_default(),
        namespace_selector: spec.namespace_selector,
    })
}

/// `2026-12-17T00:00:00Z`.
pub fn rfc3339(time: SystemTime) -> String {
    OffsetDateTime::from(time)
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// `90 days` (rounded), or hours when less than two days.
fn days(duration: Duration) -> String {
    let seconds = duration.as_secs();
    if seconds >= 2 * 86_400 {
        format!("{} days", (seconds + 43_200) / 86_400)
    } else {
        format!("{} hours", (seconds + 1_800) / 3_600)
    }
}
